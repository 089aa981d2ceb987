/**
 * The names of the aggregate counters, shared by what writes them (`deltas.ts`) and what reads
 * them (`aggregates.ts`).
 * @module
 */

/** Upper bounds of the latency histogram buckets, ms (the last is +Inf). */
export const LATENCY_BOUNDS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
/** Bucket sizes by granularity, ms. */
export const GRANULARITY_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Key and token id of roll-up rows: one row per bucket and model, every key and token summed. */
export const ROLLUP = "*";
/** Counter of streams that ended without usage. */
export const USAGE_UNKNOWN = "usage:unknown";
/** Sum of known costs, µUSD. */
export const COST = "cost";
/** Counter of requests whose cost is unknown (not in `cost`, never counted as 0). */
export const COST_UNKNOWN = "cost:unknown";
