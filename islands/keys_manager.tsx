/**
 * The keys page: every key masked, with status, cooldowns, usage today, health over 24 hours and
 * last error; search, sort and pages; select many to validate, enable, disable or delete them
 * with progress; add and import keys; edit labels and caps; delete with confirmation.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { ariaBool } from "./_shared/format.ts";
import { KeyImportPanel } from "./_shared/key_import_panel.tsx";
import { KeyEditForm } from "./_shared/key_edit_form.tsx";
import { KeyRow } from "./_shared/key_row.tsx";
import { BulkBar } from "./_shared/bulk_bar.tsx";
import {
  BULK_WORDS,
  type BulkAction,
  bulkRequest,
  KEY_SORTS,
  type KeySort,
  selectKeys,
} from "./_shared/key_bulk.ts";
import type { KeyHealthView, KeyView } from "./_shared/types.ts";

/** Props: the keys as the server read them, their health, and the server's clock then. */
export interface KeysManagerProps {
  /** `GET /admin/api/keys`. */
  keys: KeyView[];
  /** Health over the last 24 hours by key id (from the aggregates). */
  health: Record<string, KeyHealthView>;
  /** Server time of the read (epoch ms). */
  serverNow: number;
}

const PAGE_SIZE = 25;

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
  const search = useSignal("");
  const status = useSignal<"all" | KeyView["status"]>("all");
  const sort = useSignal<KeySort>("added");
  const page = useSignal(0);
  const selected = useSignal<Set<string>>(new Set());
  const bulk = useSignal<{ action: BulkAction; done: number; total: number } | null>(null);
  const confirmBulk = useSignal(false);

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

  async function runBulk(action: BulkAction) {
    const ids = [...selected.value];
    confirmBulk.value = false;
    bulk.value = { action, done: 0, total: ids.length };
    let failed = 0;
    for (const [i, id] of ids.entries()) {
      const call = bulkRequest(action, id);
      try {
        const r = await api<ValidationView>(call.path, {
          method: call.method,
          ...(call.body ? { body: call.body } : {}),
        });
        if (action === "validate") results.value = { ...results.value, [id]: validationText(r) };
      } catch (e) {
        failed++;
        results.value = { ...results.value, [id]: messageOf(e) };
      }
      bulk.value = { action, done: i + 1, total: ids.length };
    }
    const words = BULK_WORDS[action];
    notice.value = {
      kind: failed ? "bad" : "ok",
      text:
        `${words.done} ${ids.length - failed} of ${ids.length} key${ids.length === 1 ? "" : "s"}` +
        (failed ? `; ${failed} failed` : ""),
    };
    bulk.value = null;
    if (action === "delete") selected.value = new Set();
    await refresh();
  }

  const shown = selectKeys(keys.value, {
    search: search.value,
    status: status.value,
    sort: sort.value,
    health: props.health,
  });
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const current = Math.min(page.value, pages - 1);
  const rows = shown.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  const chosen = [...selected.value].filter((id) => keys.value.some((k) => k.id === id));
  const allOnPage = rows.length > 0 && rows.every((k) => selected.value.has(k.id));
  function select(ids: string[], on: boolean) {
    const next = new Set(selected.value);
    for (const id of ids) on ? next.add(id) : next.delete(id);
    selected.value = next;
  }

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
            existing={new Set(keys.value.map((k) => k.id))}
            onClose={() => importing.value = false}
            onSaved={(text) => {
              notice.value = { kind: "ok", text };
              importing.value = false;
              void refresh();
            }}
          />
        </div>
      )}
      <div class="toolbar" role="search">
        <div class="field grow">
          <label for="keys-search">Search</label>
          <input
            id="keys-search"
            type="search"
            placeholder="masked key, project, status, error"
            value={search.value}
            onInput={(e) => {
              search.value = e.currentTarget.value;
              page.value = 0;
            }}
          />
        </div>
        <div class="field">
          <label for="keys-status">Status</label>
          <select
            id="keys-status"
            value={status.value}
            onChange={(e) => {
              status.value = e.currentTarget.value as typeof status.value;
              page.value = 0;
            }}
          >
            <option value="all">All</option>
            <option value="enabled">Enabled</option>
            <option value="cooling">Cooling</option>
            <option value="disabled">Disabled</option>
          </select>
        </div>
        <div class="field">
          <label for="keys-sort">Sort</label>
          <select
            id="keys-sort"
            value={sort.value}
            onChange={(e) => sort.value = e.currentTarget.value as KeySort}
          >
            {Object.entries(KEY_SORTS).map(([id, label]) => (
              <option key={id} value={id}>{label}</option>
            ))}
          </select>
        </div>
      </div>
      <BulkBar
        count={chosen.length}
        bulk={bulk.value}
        confirming={confirmBulk.value}
        onRun={(action) => action === "delete" ? confirmBulk.value = true : void runBulk(action)}
        onConfirm={() => void runBulk("delete")}
        onCancel={() => confirmBulk.value = false}
        onClear={() => selected.value = new Set()}
      />
      <div class="table-wrap cards">
        <table class="data cards" aria-label="Gemini keys">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="Select every key on this page"
                  data-select-page
                  checked={allOnPage}
                  onChange={(e) => select(rows.map((k) => k.id), e.currentTarget.checked)}
                />
              </th>
              <th>Key</th>
              <th>Project</th>
              <th>Status</th>
              <th>Cooldowns</th>
              <th class="num">Today</th>
              <th class="num">24 h</th>
              <th>Last error</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={9} class="empty">
                  {keys.value.length === 0
                    ? "No keys yet. Add some with “Add keys”."
                    : "No key matches the search."}
                </td>
              </tr>
            )}
            {rows.map((k) => [
              <KeyRow
                key={k.id}
                k={k}
                health={props.health[k.id]}
                selected={selected.value.has(k.id)}
                editing={editing.value === k.id}
                confirming={confirming.value === k.id}
                elapsed={elapsed}
                serverNow={serverNow}
                result={results.value[k.id]}
                onSelect={(on) => select([k.id], on)}
                onValidate={() => validate(k)}
                onToggle={() =>
                  act(
                    () => api(`/keys/${k.id}`, { method: "PATCH", body: { enabled: !k.enabled } }),
                    `${k.enabled ? "Disabled" : "Enabled"} ${k.masked}`,
                  )}
                onEdit={() => editing.value = editing.value === k.id ? null : k.id}
                onDelete={() => confirming.value = k.id}
                onConfirm={() => {
                  confirming.value = null;
                  void act(() => api(`/keys/${k.id}`, { method: "DELETE" }), `Deleted ${k.masked}`);
                }}
                onCancel={() => confirming.value = null}
              />,
              editing.value === k.id && (
                <tr key={`${k.id}-edit`} class="editing">
                  <td colSpan={9}>
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
      <nav class="pager" aria-label="Pages of keys">
        <button
          type="button"
          class="btn small"
          disabled={current === 0}
          onClick={() => page.value = current - 1}
        >
          Previous
        </button>
        <span class="small muted" data-page-info>
          {shown.length === 0
            ? "0 keys"
            : `${current * PAGE_SIZE + 1}–${
              current * PAGE_SIZE + rows.length
            } of ${shown.length} keys`}
          {shown.length !== keys.value.length ? ` (${keys.value.length} in all)` : ""}
        </span>
        <button
          type="button"
          class="btn small"
          disabled={current >= pages - 1}
          onClick={() => page.value = current + 1}
        >
          Next
        </button>
      </nav>
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
