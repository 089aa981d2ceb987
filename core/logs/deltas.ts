/**
 * The aggregate counters each finished request adds to: per minute, hour and day bucket x key x
 * model x token, plus a roll-up row per bucket and model.
 * @module
 */
import type { AggregateDelta, LogRecord } from "../store/mod.ts";
import {
  COST,
  COST_UNKNOWN,
  GRANULARITY_MS,
  LATENCY_BOUNDS_MS,
  ROLLUP,
  USAGE_UNKNOWN,
} from "./counter_names.ts";

const TOKEN_KINDS = ["prompt", "candidates", "thoughts", "cached", "toolUse", "total"] as const;

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
