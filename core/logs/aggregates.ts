/**
 * Aggregate counters derived from log records, and time series assembled from them.
 *
 * Each request adds to counters per minute, hour and day bucket x key x model x token, so the
 * dashboard reads a few hundred rows for any range instead of scanning raw logs.
 * @module
 */
import type { AggregateDelta, AggregateRow } from "../store/store.ts";
import type { LogRecord } from "./log_record.ts";
import { type ErrorGroup, errorGroupOf } from "./error_groups.ts";

/** Upper bounds of the latency histogram buckets, ms (the last is +Inf). */
export const LATENCY_BOUNDS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
const GRANULARITY_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const TOKEN_KINDS = ["prompt", "candidates", "thoughts", "cached", "toolUse", "total"] as const;
/** Key and token id of roll-up rows: one row per bucket and model, every key and token summed. */
export const ROLLUP = "*";
/** Counter of streams that ended without usage. */
const USAGE_UNKNOWN = "usage:unknown";
/** Sum of known costs, µUSD. */
const COST = "cost";
/** Counter of requests whose cost is unknown (not in `cost`, never counted as 0). */
const COST_UNKNOWN = "cost:unknown";

/** The model dimension of a record's counters: `-` for none, else the (folded) name. */
export type ModelLabel = (model: string) => string;

/**
 * The counter increments one record contributes, for every granularity, with the model as is.
 * @param record A finished request's log record.
 */
export function deltasOf(record: LogRecord): AggregateDelta[] {
  const fields: [string, number][] = [["requests", 1]];
  if (record.errorClass) fields.push([`errors:${record.errorClass}`, 1]);
  const status = statusField(record.status);
  if (status) fields.push([status, 1]);
  if (record.usage) {
    for (const kind of TOKEN_KINDS) {
      if (record.usage[kind] > 0) fields.push([`tokens:${kind}`, record.usage[kind]]);
    }
  }
  if (record.usageUnknown) fields.push([USAGE_UNKNOWN, 1]);
  if (record.costMicros) fields.push([COST, record.costMicros]);
  if (record.costUnknown) fields.push([COST_UNKNOWN, 1]);
  fields.push([`latency:${latencyBucket(record.durationMs)}`, 1]);
  if (record.attempts.length > 1) fields.push(["failovers", record.attempts.length - 1]);
  const out: AggregateDelta[] = [];
  for (const granularity of ["m", "h", "d"] as const) {
    const size = GRANULARITY_MS[granularity];
    const bucket = Math.floor(record.time / size) * size;
    for (const [field, value] of fields) {
      const model = record.model ?? "-";
      out.push({
        granularity,
        bucket,
        keyId: record.keyId ?? "-",
        model,
        tokenId: record.tokenId ?? "-",
        field,
        value,
      });
      out.push({ granularity, bucket, keyId: ROLLUP, model, tokenId: ROLLUP, field, value });
    }
  }
  return out;
}

/**
 * The coalesced counter increments of a batch of records: records sharing a bucket, key, model
 * and token are summed before any counter is built, so a batch costs a few map lookups per record.
 * @param records Finished requests' log records.
 * @param modelLabel The name counters are kept under: names upstream has not confirmed share
 * one, so invented names add no rows (default: the model itself).
 */
export function batchDeltas(records: LogRecord[], modelLabel?: ModelLabel): AggregateDelta[] {
  const groups = new Map<
    string,
    { dims: Omit<AggregateDelta, "field" | "value">; fields: Map<string, number> }
  >();
  for (const record of records) {
    const keyId = record.keyId ?? "-";
    const model = modelDimension(record, modelLabel);
    const tokenId = record.tokenId ?? "-";
    const latency = `latency:${latencyBucket(record.durationMs)}`;
    const status = statusField(record.status);
    for (const granularity of ["m", "h", "d"] as const) {
      const size = GRANULARITY_MS[granularity];
      const bucket = Math.floor(record.time / size) * size;
      // Each record counts twice: in its key x model x token row, and in the model's roll-up
      // row (key and token "*"), which is all the dashboard's common views need to read.
      for (const [k, t] of [[keyId, tokenId], [ROLLUP, ROLLUP]] as const) {
        const id = `${granularity}|${bucket}|${k}|${model}|${t}`;
        let group = groups.get(id);
        if (!group) {
          group = {
            dims: { granularity, bucket, keyId: k, model, tokenId: t },
            fields: new Map(),
          };
          groups.set(id, group);
        }
        const f = group.fields;
        f.set("requests", (f.get("requests") ?? 0) + 1);
        if (record.errorClass) {
          const name = `errors:${record.errorClass}`;
          f.set(name, (f.get(name) ?? 0) + 1);
        }
        if (status) f.set(status, (f.get(status) ?? 0) + 1);
        if (record.usage) {
          for (const kind of TOKEN_KINDS) {
            const value = record.usage[kind];
            if (value > 0) f.set(`tokens:${kind}`, (f.get(`tokens:${kind}`) ?? 0) + value);
          }
        }
        if (record.usageUnknown) f.set(USAGE_UNKNOWN, (f.get(USAGE_UNKNOWN) ?? 0) + 1);
        if (record.costMicros) f.set(COST, (f.get(COST) ?? 0) + record.costMicros);
        if (record.costUnknown) f.set(COST_UNKNOWN, (f.get(COST_UNKNOWN) ?? 0) + 1);
        f.set(latency, (f.get(latency) ?? 0) + 1);
        if (record.attempts.length > 1) {
          f.set("failovers", (f.get("failovers") ?? 0) + record.attempts.length - 1);
        }
      }
    }
  }
  const out: AggregateDelta[] = [];
  for (const { dims, fields } of groups.values()) {
    for (const [field, value] of fields) out.push({ ...dims, field, value });
  }
  return out;
}

/**
 * Merges increments of the same counter.
 * @param deltas Increments from many records.
 */
export function coalesce(deltas: AggregateDelta[]): AggregateDelta[] {
  const merged = new Map<string, AggregateDelta>();
  for (const d of deltas) {
    const id =
      `${d.granularity}\u0000${d.bucket}\u0000${d.keyId}\u0000${d.model}\u0000${d.tokenId}\u0000${d.field}`;
    const existing = merged.get(id);
    if (existing) existing.value += d.value;
    else merged.set(id, { ...d });
  }
  return [...merged.values()];
}

function modelDimension(record: LogRecord, modelLabel: ModelLabel | undefined): string {
  if (record.model === null) return "-";
  return modelLabel ? modelLabel(record.model) : record.model;
}

/** The counter of an error status (`status:429`), or null for successes and odd values. */
function statusField(status: number): string | null {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? `status:${status}` : null;
}

/** The histogram bucket label (`le`) for a latency. */
export function latencyBucket(ms: number): string {
  for (const bound of LATENCY_BOUNDS_MS) if (ms <= bound) return String(bound);
  return "inf";
}

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
    addRow(group, i, row.fields, totals);
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
  i: number,
  fields: Record<string, number>,
  totals: Stats["totals"],
): void {
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
