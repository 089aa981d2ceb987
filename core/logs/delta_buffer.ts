/**
 * Aggregate increments held in memory between writes: each written record adds to one row per
 * minute, key, model and token (a single map lookup), and {@linkcode DeltaBuffer.take} spreads
 * the rows over the minute, hour and day buckets and the models' roll-up rows only when the
 * counters are written, once a second or so.
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

/** The model dimension of a record's counters: `-` for none, else the (folded) name. */
export type ModelLabel = (model: string) => string;

const TOKEN_KINDS = ["prompt", "candidates", "thoughts", "cached", "toolUse", "total"] as const;
const TOKEN_FIELDS = TOKEN_KINDS.map((kind) => `tokens:${kind}`);
const LATENCY_FIELDS = [...LATENCY_BOUNDS_MS.map((b) => `latency:${b}`), "latency:inf"];
const GRANULARITIES = ["m", "h", "d"] as const;

/** One minute's counters of a key, model and token. */
interface Row {
  bucket: number;
  keyId: string;
  model: string;
  tokenId: string;
  fields: Record<string, number>;
}

/** Counter increments held until written. */
export class DeltaBuffer {
  #rows = new Map<string, Row>();
  #modelLabel: ModelLabel | undefined;

  /**
   * @param modelLabel The name counters are kept under (default: the model itself).
   */
  constructor(modelLabel?: ModelLabel) {
    this.#modelLabel = modelLabel;
  }

  /** Rows held (minute x key x model x token). */
  get size(): number {
    return this.#rows.size;
  }

  /**
   * Adds records' counters.
   * @param records Finished requests' log records.
   */
  add(records: readonly LogRecord[]): void {
    for (const record of records) {
      const bucket = Math.floor(record.time / 60_000) * 60_000;
      const keyId = record.keyId ?? "-";
      const model = record.model === null
        ? "-"
        : this.#modelLabel
        ? this.#modelLabel(record.model)
        : record.model;
      const tokenId = record.tokenId ?? "-";
      const id = `${bucket}\u0000${keyId}\u0000${model}\u0000${tokenId}`;
      let row = this.#rows.get(id);
      if (!row) this.#rows.set(id, row = { bucket, keyId, model, tokenId, fields: {} });
      addRecord(row.fields, record);
    }
  }

  /**
   * The increments held, coalesced per counter, for every granularity and with the roll-up rows
   * (key and token `*`); empties the buffer.
   * @returns The increments, in a stable order.
   */
  take(): AggregateDelta[] {
    const merged = new Map<string, Omit<AggregateDelta, "field" | "value"> & Row>();
    for (const row of this.#rows.values()) {
      for (const granularity of GRANULARITIES) {
        const size = GRANULARITY_MS[granularity];
        const bucket = Math.floor(row.bucket / size) * size;
        // Each record counts twice: in its key x model x token row, and in the model's roll-up
        // row, which is all the dashboard's common views need to read.
        addRow(merged, { granularity, bucket, keyId: row.keyId, tokenId: row.tokenId, row });
        addRow(merged, { granularity, bucket, keyId: ROLLUP, tokenId: ROLLUP, row });
      }
    }
    this.#rows.clear();
    const out: AggregateDelta[] = [];
    for (const { granularity, bucket, keyId, model, tokenId, fields } of merged.values()) {
      for (const field in fields) {
        out.push({ granularity, bucket, keyId, model, tokenId, field, value: fields[field]! });
      }
    }
    return out;
  }
}

function addRow(
  merged: Map<string, Omit<AggregateDelta, "field" | "value"> & Row>,
  at: { granularity: "m" | "h" | "d"; bucket: number; keyId: string; tokenId: string; row: Row },
): void {
  const { granularity, bucket, keyId, tokenId, row } = at;
  const id = `${granularity}\u0000${bucket}\u0000${keyId}\u0000${row.model}\u0000${tokenId}`;
  let target = merged.get(id);
  if (!target) {
    target = { granularity, bucket, keyId, model: row.model, tokenId, fields: {} };
    merged.set(id, target);
  }
  for (const field in row.fields) {
    target.fields[field] = (target.fields[field] ?? 0) + row.fields[field]!;
  }
}

function add(fields: Record<string, number>, name: string, value: number): void {
  fields[name] = (fields[name] ?? 0) + value;
}

/** Adds one record's counters to a row's fields. */
function addRecord(fields: Record<string, number>, record: LogRecord): void {
  add(fields, "requests", 1);
  if (record.errorClass) add(fields, `errors:${record.errorClass}`, 1);
  const status = record.status;
  if (Number.isInteger(status) && status >= 400 && status <= 599) {
    add(fields, `status:${status}`, 1);
  }
  const usage = record.usage;
  if (usage) {
    for (let i = 0; i < TOKEN_KINDS.length; i++) {
      const value = usage[TOKEN_KINDS[i]!];
      if (value > 0) add(fields, TOKEN_FIELDS[i]!, value);
    }
  }
  if (record.usageUnknown) add(fields, USAGE_UNKNOWN, 1);
  if (record.costMicros) add(fields, COST, record.costMicros);
  if (record.costUnknown) add(fields, COST_UNKNOWN, 1);
  add(fields, LATENCY_FIELDS[latencyIndex(record.durationMs)]!, 1);
  if (record.attempts.length > 1) add(fields, "failovers", record.attempts.length - 1);
}

/** The histogram bucket of a latency: the first bound it does not exceed, or the last. */
function latencyIndex(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}
