/**
 * Time series assembled from the aggregate counters (`deltas.ts` writes them): the dashboard reads
 * a few hundred rows for any range instead of scanning raw logs.
 * @module
 */
import type { AggregateRow } from "../store/mod.ts";
import {
  COST,
  COST_UNKNOWN,
  GRANULARITY_MS,
  LATENCY_BOUNDS_MS,
  ROLLUP,
  USAGE_UNKNOWN,
} from "./counter_names.ts";
import { type ErrorGroup, errorGroupOf } from "./error_groups.ts";

export { LATENCY_BOUNDS_MS, ROLLUP } from "./counter_names.ts";

/** Granularity suited to a range: minutes up to 3 h, hours up to 3 days, days beyond. */
export function granularityFor(rangeMs: number): "m" | "h" | "d" {
  if (rangeMs <= 3 * 3_600_000) return "m";
  if (rangeMs <= 3 * 86_400_000) return "h";
  return "d";
}

/** One group's series over the buckets of a range. */
export interface Series {
  /** The group's value (model, key id, token id) or `all`. */
  group: string;
  requests: number[];
  errors: number[];
  tokens: number[];
  /** Known cost, µUSD (requests of unknown cost are not in it). */
  costMicros: number[];
  /** Requests of unknown cost (unpriced model, or no usage): counted, never priced as 0. */
  costUnknown: number[];
  failovers: number[];
  /** Errors per bucket by side: client, keys, upstream (Google and network), proxy. */
  errorGroups: Record<ErrorGroup, number[]>;
  /** The whole range: requests, errors by side, tokens, cost, latency percentiles. */
  overall: {
    requests: number;
    errors: number;
    errorGroups: Record<ErrorGroup, number>;
    tokens: number;
    /** Known cost, µUSD. */
    costMicros: number;
    /** Requests of unknown cost. */
    costUnknown: number;
    p50: number | null;
    p95: number | null;
  };
  /** Latency percentiles (ms, upper bucket bound; null when no request). */
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
}

/** A stats answer. */
export interface Stats {
  /** Bucket granularity used. */
  granularity: "m" | "h" | "d";
  /** Bucket start times. */
  buckets: number[];
  /** One series per group. */
  series: Series[];
  /** Totals over the range: requests, errors by class and status, tokens by kind, failovers. */
  totals: {
    requests: number;
    failovers: number;
    /** Streams that ended without usage: their tokens are not in `tokens`. */
    usageUnknown: number;
    /** Known cost, µUSD. */
    costMicros: number;
    /** Requests of unknown cost (unpriced model or no usage): not in `costMicros`. */
    costUnknown: number;
    errors: Record<string, number>;
    /** Error answers by HTTP status (`"401"`, `"429"`...). */
    statuses: Record<string, number>;
    tokens: Record<string, number>;
  };
}

/** Options of {@linkcode buildStats}. */
export interface StatsOptions {
  /** Range start (epoch ms). */
  from: number;
  /** Range end (epoch ms). */
  to: number;
  /** Granularity of `rows`. */
  granularity: "m" | "h" | "d";
  /** Dimension to group by. */
  groupBy: "none" | "model" | "keyId" | "tokenId";
  /** Only this key's or token's traffic (read from the full rows). */
  where?: { keyId?: string; tokenId?: string };
}

/**
 * Assembles time series from aggregate rows.
 * @param rows Rows read from the store.
 * @param options Range, granularity, grouping and an optional key or token.
 */
export function buildStats(rows: AggregateRow[], options: StatsOptions): Stats {
  const size = GRANULARITY_MS[options.granularity];
  const first = Math.floor(options.from / size) * size;
  const buckets: number[] = [];
  for (let t = first; t < options.to; t += size) buckets.push(t);
  const index = new Map(buckets.map((b, i) => [b, i]));
  const groups = new Map<string, GroupState>();
  const totals: Stats["totals"] = {
    requests: 0,
    failovers: 0,
    errors: {},
    usageUnknown: 0,
    costMicros: 0,
    costUnknown: 0,
    statuses: {},
    tokens: {},
  };
  // Roll-up rows answer the views by model or over everything; full rows the views by key or
  // token, or of one key or token. Each request is in both, so only one kind is counted.
  const where = options.where ?? {};
  const rollup = (options.groupBy === "none" || options.groupBy === "model") &&
    where.keyId === undefined && where.tokenId === undefined;
  for (const row of rows) {
    if ((row.keyId === ROLLUP && row.tokenId === ROLLUP) !== rollup) continue;
    if (where.keyId !== undefined && row.keyId !== where.keyId) continue;
    if (where.tokenId !== undefined && row.tokenId !== where.tokenId) continue;
    const i = index.get(row.bucket);
    if (i === undefined) continue;
    const name = options.groupBy === "none" ? "all" : row[options.groupBy];
    let group = groups.get(name);
    if (!group) groups.set(name, group = newGroup(name, buckets.length));
    addRow(group, { i, fields: row.fields, totals });
  }
  return {
    granularity: options.granularity,
    buckets,
    series: [...groups.values()].map(finishGroup),
    totals,
  };
}

interface GroupState {
  series: Series;
  histograms: Map<string, number>[];
}

const GROUP_NAMES: ErrorGroup[] = ["client", "keys", "upstream", "proxy"];

function newGroup(name: string, length: number): GroupState {
  const zeros = () => Array.from({ length }, () => 0);
  const errorGroups = Object.fromEntries(GROUP_NAMES.map((g) => [g, zeros()])) as Record<
    ErrorGroup,
    number[]
  >;
  return {
    series: {
      group: name,
      requests: zeros(),
      errors: zeros(),
      tokens: zeros(),
      costMicros: zeros(),
      costUnknown: zeros(),
      failovers: zeros(),
      errorGroups,
      overall: {
        requests: 0,
        errors: 0,
        errorGroups: { client: 0, keys: 0, upstream: 0, proxy: 0 },
        tokens: 0,
        costMicros: 0,
        costUnknown: 0,
        p50: null,
        p95: null,
      },
      p50: [],
      p95: [],
      p99: [],
    },
    histograms: Array.from({ length }, () => new Map()),
  };
}

function addRow(
  group: GroupState,
  row: { i: number; fields: Record<string, number>; totals: Stats["totals"] },
): void {
  const { i, fields, totals } = row;
  const s = group.series;
  for (const [field, value] of Object.entries(fields)) {
    if (field === "requests") {
      s.requests[i]! += value;
      totals.requests += value;
    } else if (field === "failovers") {
      s.failovers[i]! += value;
      totals.failovers += value;
    } else if (field === USAGE_UNKNOWN) {
      totals.usageUnknown += value;
    } else if (field === COST) {
      s.costMicros[i]! += value;
      totals.costMicros += value;
    } else if (field === COST_UNKNOWN) {
      s.costUnknown[i]! += value;
      totals.costUnknown += value;
    } else if (field.startsWith("errors:")) {
      s.errors[i]! += value;
      const cls = field.slice(7);
      s.errorGroups[errorGroupOf(cls)][i]! += value;
      totals.errors[cls] = (totals.errors[cls] ?? 0) + value;
    } else if (field.startsWith("status:")) {
      const code = field.slice(7);
      totals.statuses[code] = (totals.statuses[code] ?? 0) + value;
    } else if (field.startsWith("tokens:")) {
      const kind = field.slice(7);
      if (kind === "total") s.tokens[i]! += value;
      totals.tokens[kind] = (totals.tokens[kind] ?? 0) + value;
    } else if (field.startsWith("latency:")) {
      const h = group.histograms[i]!;
      h.set(field.slice(8), (h.get(field.slice(8)) ?? 0) + value);
    }
  }
}

function finishGroup({ series, histograms }: GroupState): Series {
  series.p50 = histograms.map((h) => percentile(h, 0.5));
  series.p95 = histograms.map((h) => percentile(h, 0.95));
  series.p99 = histograms.map((h) => percentile(h, 0.99));
  const whole = new Map<string, number>();
  for (const h of histograms) for (const [k, v] of h) whole.set(k, (whole.get(k) ?? 0) + v);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const o = series.overall;
  o.requests = sum(series.requests);
  o.errors = sum(series.errors);
  o.tokens = sum(series.tokens);
  o.costMicros = sum(series.costMicros);
  o.costUnknown = sum(series.costUnknown);
  for (const g of GROUP_NAMES) o.errorGroups[g] = sum(series.errorGroups[g]);
  o.p50 = percentile(whole, 0.5);
  o.p95 = percentile(whole, 0.95);
  return series;
}

/**
 * A percentile from histogram counts, as the upper bound of the bucket holding it.
 * @param histogram Counts by bucket label.
 * @param q Quantile in (0, 1].
 */
export function percentile(histogram: Map<string, number>, q: number): number | null {
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const bound of [...LATENCY_BOUNDS_MS.map(String), "inf"]) {
    seen += histogram.get(bound) ?? 0;
    if (seen >= rank) return bound === "inf" ? Infinity : Number(bound);
  }
  return Infinity;
}
