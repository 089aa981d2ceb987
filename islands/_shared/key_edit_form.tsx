/**
 * Editing a key's project label, weight and per-model caps.
 * @module
 */
import { type Signal, useSignal } from "@preact/signals";
import { api, messageOf } from "./api.ts";
import { type LimitRow, LimitsEditor, limitsOf, rowsOf } from "./limits_editor.tsx";
import type { KeyView } from "./types.ts";

/**
 * The edit form of one key.
 * @param props The key, and what to do when done (a message, or null when cancelled).
 */
export function KeyEditForm(props: { keyView: KeyView; onDone: (text: string | null) => void }) {
  const k = props.keyView;
  const project = useSignal(k.project ?? "");
  const weight = useSignal(k.weight === undefined ? "" : String(k.weight));
  const rows: Signal<LimitRow[]> = useSignal(rowsOf(k.limits));
  const error = useSignal<string | null>(null);
  async function save(event: Event) {
    event.preventDefault();
    try {
      const w = weight.value.trim();
      if (w && !(Number(w) >= 0 && Number(w) <= 1000)) {
        throw new Error(`"${w}" is not a weight from 0 to 1000`);
      }
      await api(`/keys/${k.id}`, {
        method: "PATCH",
        body: {
          project: project.value.trim() || null,
          ...(w ? { weight: Number(w) } : {}),
          limits: limitsOf(rows.value),
        },
      });
      props.onDone(`Saved ${k.masked}`);
    } catch (e) {
      error.value = messageOf(e);
    }
  }
  return (
    <form onSubmit={save} aria-label={`Edit ${k.masked}`}>
      <div class="row">
        <div class="field">
          <label for={`project-${k.id}`}>Project</label>
          <input
            id={`project-${k.id}`}
            value={project}
            onInput={(e) => project.value = e.currentTarget.value}
          />
        </div>
        <div class="field">
          <label for={`weight-${k.id}`}>Weight</label>
          <input
            id={`weight-${k.id}`}
            inputMode="decimal"
            value={weight}
            placeholder="1"
            onInput={(e) => weight.value = e.currentTarget.value}
          />
        </div>
      </div>
      <LimitsEditor rows={rows} idPrefix={`limits-${k.id}`} />
      {error.value && <p class="notice bad" role="alert">{error.value}</p>}
      <div class="actions">
        <button type="submit" class="btn primary">Save</button>
        <button type="button" class="btn" onClick={() => props.onDone(null)}>Cancel</button>
      </div>
    </form>
  );
}
