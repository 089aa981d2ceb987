/**
 * Adding keys: paste one or many, or read a file; a masked, de-duplicated preview; then save.
 * The keys go from the browser to the server once and are never shown again.
 * @module
 */
import { useSignal } from "@preact/signals";
import { api, messageOf } from "./api.ts";
import { findKeys, type FoundKeys, ignoredSummary } from "./key_import.ts";

/** Props of {@linkcode KeyImportPanel}. */
export interface KeyImportPanelProps {
  /** Ids of keys already in the pool. */
  existing: Set<string>;
  /** Called after a save with a summary. */
  onSaved: (summary: string) => void;
  /** Closes the panel. */
  onClose: () => void;
}

/**
 * The import panel.
 * @param props Existing ids and callbacks.
 */
export function KeyImportPanel(props: KeyImportPanelProps) {
  const found = useSignal<FoundKeys>({ keys: [], repeats: 0, ignored: [] });
  const project = useSignal("");
  const validateFirst = useSignal(true);
  const progress = useSignal<{ done: number; total: number } | null>(null);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);

  async function scan(input: string) {
    found.value = await findKeys(input);
  }
  async function readFile(file: File | undefined) {
    if (!file) return;
    if (file.size > 5 * 1024 * 1024) {
      error.value = `File "${file.name}" is larger than 5 MB`;
      return;
    }
    const area = document.getElementById("keys-paste") as HTMLTextAreaElement | null;
    const content = await file.text();
    if (area) area.value = content;
    await scan(content);
  }
  const fresh = found.value.keys.filter((k) => !props.existing.has(k.id));

  async function save(event: Event) {
    event.preventDefault();
    if (fresh.length === 0) return;
    busy.value = true;
    error.value = null;
    try {
      const result = await api<{ added: string[]; existing: string[] }>("/keys", {
        method: "POST",
        body: {
          keys: fresh.map((k) => k.value),
          ...(project.value.trim() ? { project: project.value.trim() } : {}),
          ...(validateFirst.value ? { enabled: false } : {}),
        },
      });
      found.value = { keys: [], repeats: 0, ignored: [] };
      const area = document.getElementById("keys-paste") as HTMLTextAreaElement | null;
      if (area) area.value = "";
      const checked = validateFirst.value ? await validateAll(result.added) : "";
      props.onSaved(
        `Added ${result.added.length} key${result.added.length === 1 ? "" : "s"}` +
          (result.existing.length ? `, ${result.existing.length} already present` : "") +
          checked,
      );
    } catch (e) {
      error.value = messageOf(e);
    } finally {
      busy.value = false;
      progress.value = null;
    }
  }

  /** Validates new keys one by one; valid ones are enabled by the server. */
  async function validateAll(ids: string[]): Promise<string> {
    const tally = { valid: 0, invalid: 0, unknown: 0 };
    progress.value = { done: 0, total: ids.length };
    for (const [i, id] of ids.entries()) {
      try {
        const r = await api<{ verdict: "valid" | "invalid" | "unknown" }>(`/keys/${id}/validate`, {
          method: "POST",
        });
        tally[r.verdict]++;
      } catch {
        tally.unknown++;
      }
      progress.value = { done: i + 1, total: ids.length };
    }
    return `: ${tally.valid} valid and enabled` +
      (tally.invalid ? `, ${tally.invalid} invalid (left disabled)` : "") +
      (tally.unknown ? `, ${tally.unknown} not checked (left disabled)` : "");
  }

  return (
    <section class="card" aria-labelledby="import-title">
      <h2 id="import-title">Add keys</h2>
      <form onSubmit={save}>
        <div class="field">
          <label for="keys-paste">Paste keys</label>
          <span class="hint" id="keys-paste-hint">
            One or many <code>AIza...</code> or <code>AQ.</code>{" "}
            keys, separated by anything (lines, commas, CSV, JSON, .env).
          </span>
          <textarea
            id="keys-paste"
            rows={4}
            spellcheck={false}
            autocomplete="off"
            aria-describedby="keys-paste-hint"
            onInput={(e) => scan(e.currentTarget.value)}
          />
        </div>
        <div class="row">
          <div class="field">
            <label for="keys-file">Or import a file</label>
            <input
              id="keys-file"
              type="file"
              accept=".txt,.csv,.json,.env,text/plain,application/json"
              onChange={(e) => readFile(e.currentTarget.files?.[0])}
            />
          </div>
          <div class="field">
            <label for="keys-project">Project (optional)</label>
            <input
              id="keys-project"
              value={project}
              onInput={(e) => project.value = e.currentTarget.value}
              placeholder="keys of one Google Cloud project share quota"
            />
          </div>
        </div>
        <label class="check">
          <input
            type="checkbox"
            id="keys-validate-first"
            checked={validateFirst.value}
            onChange={(e) => validateFirst.value = e.currentTarget.checked}
          />{" "}
          Validate before enabling (keys are added disabled and enabled once Google accepts them)
        </label>
        {error.value && <p class="notice bad" role="alert">{error.value}</p>}
        {progress.value && (
          <p class="small" role="status" data-import-progress>
            Validating {progress.value.done} of {progress.value.total}...
            <progress class="progress" value={progress.value.done} max={progress.value.total} />
          </p>
        )}
        {found.value.keys.length > 0 && (
          <div class="table-wrap" style={{ marginBottom: "1rem" }}>
            <table class="data" aria-label="Keys to import">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Format</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {found.value.keys.map((k) => (
                  <tr key={k.id} data-preview={k.id}>
                    <td class="mono">{k.masked}</td>
                    <td>{k.kind}</td>
                    <td>
                      {props.existing.has(k.id)
                        ? <span class="pill">already added</span>
                        : <span class="pill ok">new</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="muted small" aria-live="polite" data-import-summary>
          {found.value.keys.length === 0
            ? "No key found yet."
            : `${found.value.keys.length} distinct key${
              found.value.keys.length === 1 ? "" : "s"
            } found, ${fresh.length} new` +
              (found.value.repeats
                ? `, ${found.value.repeats} repeat${found.value.repeats === 1 ? "" : "s"} dropped`
                : "")}
        </p>
        {found.value.ignored.length > 0 && (
          <p class="notice warn small" data-import-ignored>{ignoredSummary(found.value.ignored)}</p>
        )}
        <div class="actions">
          <button type="submit" class="btn primary" disabled={busy.value || fresh.length === 0}>
            {fresh.length > 0
              ? `Import ${fresh.length} key${fresh.length === 1 ? "" : "s"}`
              : "Import"}
          </button>
          <button type="button" class="btn" onClick={props.onClose}>Cancel</button>
        </div>
      </form>
    </section>
  );
}
