/**
 * The keys page: every key masked, with status, cooldowns, usage today and last error; add and
 * import keys; validate, enable or disable, edit labels and caps, delete with confirmation.
 * @module
 */
import { ConfirmRow } from "./_shared/confirm_row.tsx";
import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { ariaBool, formatAgo, formatCount, formatCountdown } from "./_shared/format.ts";
import { KeyImportPanel } from "./_shared/key_import_panel.tsx";
import { type LimitRow, LimitsEditor, limitsOf, rowsOf } from "./_shared/limits_editor.tsx";
import type { KeyView } from "./_shared/types.ts";

/** Props: the keys as the server read them, and the server's clock then. */
export interface KeysManagerProps {
  /** `GET /admin/api/keys`. */
  keys: KeyView[];
  /** Server time of the read (epoch ms). */
  serverNow: number;
}

/**
 * The keys island.
 * @param props First data.
 */
export default function KeysManager(props: KeysManagerProps) {
  const keys = useSignal(props.keys);
  const hydratedAt = useRef<number | null>(null);
  const loadedAt = useSignal<number | null>(null);
  const tick = useSignal<number | null>(null);
  const importing = useSignal(false);
  const notice = useSignal<{ kind: "ok" | "bad"; text: string } | null>(null);
  const editing = useSignal<string | null>(null);
  const confirming = useSignal<string | null>(null);
  const results = useSignal<Record<string, string>>({});

  async function refresh() {
    try {
      const data = await api<{ keys: KeyView[] }>("/keys");
      keys.value = data.keys;
      loadedAt.value = performance.now();
    } catch (e) {
      notice.value = { kind: "bad", text: messageOf(e) };
    }
  }
  useEffect(() => {
    hydratedAt.current = loadedAt.value = tick.value = performance.now();
    document.documentElement.dataset.hydrated = "true";
    const timer = setInterval(() => tick.value = performance.now(), 1000);
    const poll = setInterval(refresh, 15_000);
    return () => {
      clearInterval(timer);
      clearInterval(poll);
    };
  }, []);
  const elapsed = tick.value !== null && loadedAt.value !== null
    ? (tick.value - loadedAt.value) / 1000
    : 0;
  const serverNow = props.serverNow +
    (tick.value !== null && hydratedAt.current !== null ? tick.value - hydratedAt.current : 0);

  async function act(what: () => Promise<unknown>, done: string) {
    try {
      await what();
      notice.value = { kind: "ok", text: done };
      await refresh();
    } catch (e) {
      notice.value = { kind: "bad", text: messageOf(e) };
    }
  }
  async function validate(key: KeyView) {
    results.value = { ...results.value, [key.id]: "Checking..." };
    try {
      const r = await api<ValidationView>(`/keys/${key.id}/validate`, { method: "POST" });
      results.value = { ...results.value, [key.id]: validationText(r) };
      await refresh();
    } catch (e) {
      results.value = { ...results.value, [key.id]: messageOf(e) };
    }
  }

  const list = keys.value;
  return (
    <div>
      <div class="page-head">
        <h1>Keys</h1>
        <button
          type="button"
          class="btn primary"
          aria-expanded={ariaBool(importing.value)}
          aria-controls="import-panel"
          onClick={() => importing.value = !importing.value}
        >
          Add keys
        </button>
      </div>
      {notice.value && (
        <p class={`notice ${notice.value.kind}`} role="status">{notice.value.text}</p>
      )}
      {importing.value && (
        <div id="import-panel">
          <KeyImportPanel
            existing={new Set(list.map((k) => k.id))}
            onClose={() => importing.value = false}
            onSaved={(text) => {
              notice.value = { kind: "ok", text };
              importing.value = false;
              void refresh();
            }}
          />
        </div>
      )}
      <div class="table-wrap">
        <table class="data" aria-label="Gemini keys">
          <thead>
            <tr>
              <th>Key</th>
              <th>Project</th>
              <th>Status</th>
              <th>Cooldowns</th>
              <th class="num">Today</th>
              <th>Last error</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.length === 0 && (
              <tr>
                <td colSpan={7} class="empty">No keys yet. Add some with “Add keys”.</td>
              </tr>
            )}
            {list.map((k) => [
              <tr key={k.id} data-key={k.id} class={editing.value === k.id ? "editing" : ""}>
                <td>
                  <span class="mono" data-masked>{k.masked}</span>
                  <div class="muted small">
                    {k.source === "env" ? "from GEMINI_API_KEYS" : "added here"} ·{" "}
                    <span class="mono">{k.id}</span>
                  </div>
                </td>
                <td>
                  {k.project ?? <span class="muted">–</span>}
                  {k.weight !== undefined && <div class="muted small">weight {k.weight}</div>}
                </td>
                <td>
                  <span
                    class={`pill ${
                      k.status === "enabled" ? "ok" : k.status === "cooling" ? "warn" : "bad"
                    }`}
                  >
                    {k.status}
                  </span>
                  {k.disabledReason && !k.enabled && <div class="small">{k.disabledReason}</div>}
                  {results.value[k.id] && (
                    <div class="small" role="status">{results.value[k.id]}</div>
                  )}
                </td>
                <td class="small">
                  {k.cooldowns.length === 0
                    ? <span class="muted">–</span>
                    : k.cooldowns.map((c) => (
                      <div key={c.model}>
                        {c.model === "*" ? "all models" : c.model}{" "}
                        <span class="mono">{formatCountdown(c.seconds - elapsed)}</span>
                      </div>
                    ))}
                </td>
                <td class="num small">
                  {formatCount(k.usageToday?.requests ?? 0)} req
                  <div class="muted">{formatCount(k.usageToday?.tokens ?? 0)} tok</div>
                </td>
                <td class="small">
                  {k.lastError
                    ? (
                      <>
                        <span class="pill bad">{k.lastError.status}</span> {k.lastError.errorClass}
                        <div class="muted">{formatAgo(k.lastError.at, serverNow)}</div>
                      </>
                    )
                    : <span class="muted">–</span>}
                </td>
                <td>
                  {confirming.value === k.id
                    ? (
                      <ConfirmRow
                        label={`Confirm deleting ${k.masked}`}
                        question={`Delete ${k.masked}?`}
                        yes="Yes, delete"
                        onYes={() => {
                          confirming.value = null;
                          void act(
                            () => api(`/keys/${k.id}`, { method: "DELETE" }),
                            `Deleted ${k.masked}`,
                          );
                        }}
                        onCancel={() => confirming.value = null}
                      />
                    )
                    : (
                      <div class="actions">
                        <button type="button" class="btn small" onClick={() => validate(k)}>
                          Validate
                        </button>
                        <button
                          type="button"
                          class="btn small"
                          onClick={() =>
                            act(
                              () =>
                                api(`/keys/${k.id}`, {
                                  method: "PATCH",
                                  body: { enabled: !k.enabled },
                                }),
                              `${k.enabled ? "Disabled" : "Enabled"} ${k.masked}`,
                            )}
                        >
                          {k.enabled ? "Disable" : "Enable"}
                        </button>
                        <button
                          type="button"
                          class="btn small"
                          aria-expanded={ariaBool(editing.value === k.id)}
                          onClick={() => editing.value = editing.value === k.id ? null : k.id}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="btn small danger"
                          onClick={() => confirming.value = k.id}
                        >
                          Delete
                        </button>
                      </div>
                    )}
                </td>
              </tr>,
              editing.value === k.id && (
                <tr key={`${k.id}-edit`} class="editing">
                  <td colSpan={7}>
                    <KeyEditForm
                      keyView={k}
                      onDone={(text) => {
                        editing.value = null;
                        if (text) {
                          notice.value = { kind: "ok", text };
                          void refresh();
                        }
                      }}
                    />
                  </td>
                </tr>
              ),
            ])}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** What `POST /admin/api/keys/{id}/validate` answers. */
interface ValidationView {
  verdict: "valid" | "invalid" | "unknown";
  reenabled?: boolean;
  disabled?: boolean;
  reason?: string;
  status?: number;
}

/** A validation outcome in words: Google's verdict, or why there was none. */
function validationText(r: ValidationView): string {
  const why = r.reason ?? `HTTP ${r.status ?? "?"}`;
  if (r.verdict === "valid") return `Valid${r.reenabled ? ", enabled again" : ""}`;
  if (r.verdict === "invalid") return `Invalid: ${why}${r.disabled ? ", disabled" : ""}`;
  return `Could not check: ${why}`;
}

function KeyEditForm(props: { keyView: KeyView; onDone: (text: string | null) => void }) {
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
