/**
 * Searching, sorting and paging the keys table, and the bulk actions over a selection.
 * @module
 */
import type { KeyHealthView, KeyView } from "./types.ts";

/** Sort orders of the keys table. */
export const KEY_SORTS = {
  added: "Newest first",
  key: "Key",
  status: "Status (disabled first)",
  today: "Requests today",
  success: "Success, 24 h (worst first)",
  latency: "Latency p50, 24 h (slowest first)",
  error: "Last error (latest first)",
} as const;

/** A sort order's id. */
export type KeySort = keyof typeof KEY_SORTS;

/** Options of {@linkcode selectKeys}. */
export interface KeyQuery {
  /** Text found in the masked key, id, project, status or last error. */
  search: string;
  /** `all`, or one status. */
  status: "all" | KeyView["status"];
  /** Sort order. */
  sort: KeySort;
  /** Health by key id. */
  health: Record<string, KeyHealthView>;
}

const STATUS_RANK = { disabled: 0, cooling: 1, enabled: 2 };

/**
 * The keys matching a search and status, in a sort order.
 * @param keys Every key.
 * @param q Search, status, sort and health.
 */
export function selectKeys(keys: KeyView[], q: KeyQuery): KeyView[] {
  const text = q.search.trim().toLowerCase();
  const found = keys.filter((k) =>
    (q.status === "all" || k.status === q.status) &&
    (!text ||
      [k.masked, k.id, k.project ?? "", k.status, k.lastError?.errorClass ?? ""]
        .some((v) => v.toLowerCase().includes(text)))
  );
  const h = (k: KeyView) => q.health[k.id];
  const by: Record<KeySort, (a: KeyView, b: KeyView) => number> = {
    added: (a, b) => b.createdAt - a.createdAt,
    key: (a, b) => a.masked.localeCompare(b.masked),
    status: (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status],
    today: (a, b) => (b.usageToday?.requests ?? 0) - (a.usageToday?.requests ?? 0),
    success: (a, b) => (h(a)?.successRate ?? 2) - (h(b)?.successRate ?? 2),
    latency: (a, b) => (h(b)?.p50 ?? -1) - (h(a)?.p50 ?? -1),
    error: (a, b) => (b.lastError?.at ?? 0) - (a.lastError?.at ?? 0),
  };
  return [...found].sort((a, b) => by[q.sort](a, b) || a.id.localeCompare(b.id));
}

/** A bulk action over selected keys. */
export type BulkAction = "validate" | "enable" | "disable" | "delete";

/** Words for a bulk action: the button, and the running and done forms. */
export const BULK_WORDS: Record<BulkAction, { button: string; running: string; done: string }> = {
  validate: { button: "Validate", running: "Validating", done: "Validated" },
  enable: { button: "Enable", running: "Enabling", done: "Enabled" },
  disable: { button: "Disable", running: "Disabling", done: "Disabled" },
  delete: { button: "Delete", running: "Deleting", done: "Deleted" },
};

/** The admin API call of a bulk action for one key. */
export function bulkRequest(
  action: BulkAction,
  id: string,
): { path: string; method: "POST" | "PATCH" | "DELETE"; body?: unknown } {
  if (action === "validate") return { path: `/keys/${id}/validate`, method: "POST" };
  if (action === "delete") return { path: `/keys/${id}`, method: "DELETE" };
  return { path: `/keys/${id}`, method: "PATCH", body: { enabled: action === "enable" } };
}
