/**
 * The aggregate counters each finished request adds to: per minute, hour and day bucket x key x
 * model x token, plus a roll-up row per bucket and model.
 * @module
 */
import { type AggregateDelta, fieldDeltas, type LogRecord } from "../store/mod.ts";
import { DeltaBuffer, type ModelLabel } from "./delta_buffer.ts";
import {
  COST,
  COST_UNKNOWN,
  GRANULARITY_MS,
  LATENCY_BOUNDS_MS,
  ROLLUP,
  USAGE_UNKNOWN,
} from "./counter_names.ts";

const TOKEN_KINDS = ["prompt", "candidates", "thoughts", "cached", "toolUse", "total"] as const;

export type { ModelLabel } from "./delta_buffer.ts";

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
 * The coalesced counter increments of a batch of records (see {@linkcode DeltaBuffer}).
 * @param records Finished requests' log records.
 * @param modelLabel The name counters are kept under: names upstream has not confirmed share
 * one, so invented names add no rows (default: the model itself).
 */
export function batchDeltas(records: LogRecord[], modelLabel?: ModelLabel): AggregateDelta[] {
  const buffer = new DeltaBuffer(modelLabel);
  buffer.add(records);
  return fieldDeltas(buffer.take());
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

/** The counter of an error status (`status:429`), or null for successes and odd values. */
function statusField(status: number): string | null {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? `status:${status}` : null;
}

/** The histogram bucket label (`le`) for a latency. */
export function latencyBucket(ms: number): string {
  for (const bound of LATENCY_BOUNDS_MS) if (ms <= bound) return String(bound);
  return "inf";
}
