/**
 * The values the logs page offers in its filter selects: error classes (grouped by side), status
 * groups, token and key names, and the models seen in the last 30 days (from the aggregates).
 * @module
 */
import { ERROR_CLASSES, ERROR_GROUPS, ROLLUP } from "../logs/mod.ts";
import type { AdminContext } from "./context.ts";

/** Most models listed (the most used first). */
const MAX_MODELS = 200;

/** What `GET /admin/api/logs/facets` answers. */
export interface LogFacets {
  /** Error classes with their side and meaning. */
  errorClasses: { id: string; group: string; label: string }[];
  /** The sides, in display order. */
  errorGroups: { id: string; label: string }[];
  /** Status values the filter understands. */
  statuses: { id: string; label: string }[];
  /** Proxy tokens, by name. */
  tokens: { id: string; name: string }[];
  /** Keys, masked. */
  keys: { id: string; masked: string }[];
  /** Models that had requests in the last 30 days, most requests first. */
  models: string[];
}

const STATUSES = [
  { id: "2xx", label: "2xx success" },
  { id: "4xx", label: "4xx client side" },
  { id: "401", label: "401 bad token" },
  { id: "403", label: "403 forbidden" },
  { id: "429", label: "429 limits and quota" },
  { id: "5xx", label: "5xx upstream or proxy" },
  { id: "503", label: "503 unavailable" },
];

/**
 * Reads the filter values.
 * @param ctx The admin state.
 */
export async function logFacets(ctx: AdminContext): Promise<LogFacets> {
  const to = ctx.now() + 1;
  const from = Math.floor((to - 30 * 86_400_000) / 86_400_000) * 86_400_000;
  const [rows, tokens] = await Promise.all([
    ctx.store.readAggregates("d", { from, to, rollupOnly: true }),
    ctx.store.listTokens(),
  ]);
  const byModel = new Map<string, number>();
  for (const row of rows) {
    if (row.keyId !== ROLLUP || row.tokenId !== ROLLUP || row.model === "-") continue;
    byModel.set(row.model, (byModel.get(row.model) ?? 0) + (row.fields.requests ?? 0));
  }
  return {
    errorClasses: Object.entries(ERROR_CLASSES).map(([id, c]) => ({ id, ...c })),
    errorGroups: [...ERROR_GROUPS],
    statuses: STATUSES,
    tokens: tokens.map((t) => ({ id: t.id, name: t.name })),
    keys: ctx.registry.keys.map((k) => ({ id: k.id, masked: k.record.masked })),
    models: [...byModel].sort((a, b) => b[1] - a[1]).slice(0, MAX_MODELS).map(([m]) => m),
  };
}
