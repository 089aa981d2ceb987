/**
 * Aggregate increments held in memory between writes: each written record adds to one row per
 * minute, key, model and token (a single map lookup), and {@linkcode DeltaBuffer.take} spreads
 * the rows over the minute, hour and day buckets and the models' roll-up rows only when the
 * counters are written, once a second or so.
 * @module
 */
import type { AggregateRowDelta, LogRecord } from "../store/mod.ts";
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
  /** Rows by key, model and token, then by minute: most hold a single minute. */
  #rows = new Map<string, Map<number, Row>>();
  #size = 0;
  #modelLabel: ModelLabel | undefined;

  /**
   * @param modelLabel The name counters are kept under (default: the model itself).
   */
  constructor(modelLabel?: ModelLabel) {
    this.#modelLabel = modelLabel;
  }

  /** Rows held (minute x key x model x token). */
  get size(): number {
    return this.#size;
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
      const id = `${keyId}\u0000${model}\u0000${tokenId}`;
      let minutes = this.#rows.get(id);
      if (!minutes) this.#rows.set(id, minutes = new Map());
      let row = minutes.get(bucket);
      if (!row) {
        minutes.set(bucket, row = { bucket, keyId, model, tokenId, fields: {} });
        this.#size++;
      }
      addRecord(row.fields, record);
    }
  }

  /**
   * The increments held, by row (each row once, its counters coalesced), for every granularity
   * and with the roll-up rows (key and token `*`); empties the buffer.
   * @returns The rows, in a stable order.
   */
  take(): AggregateRowDelta[] {
    const out: AggregateRowDelta[] = [];
    // Each record counts twice: in its key x model x token row, and in the model's roll-up
    // row, which is all the dashboard's common views need to read. Roll-ups are summed per
    // minute and model first: a handful of rows, spread over the granularities at the end.
    const rollups = new Map<string, Map<number, Row>>();
    for (const minutes of this.#rows.values()) {
      for (const granularity of GRANULARITIES) spreadRows(out, granularity, minutes);
      for (const row of minutes.values()) {
        let byMinute = rollups.get(row.model);
        if (!byMinute) rollups.set(row.model, byMinute = new Map());
        let rollup = byMinute.get(row.bucket);
        if (!rollup) {
          byMinute.set(row.bucket, rollup = { ...row, keyId: ROLLUP, tokenId: ROLLUP, fields: {} });
        }
        addAll(rollup.fields, row.fields);
      }
    }
    this.#rows.clear();
    this.#size = 0;
    for (const minutes of rollups.values()) {
      for (const granularity of GRANULARITIES) spreadRows(out, granularity, minutes);
    }
    return out;
  }
}

/**
 * Appends one dimension tuple's rows in a granularity's buckets: its minute rows, summed per
 * bucket (one minute, the common case, is one row per granularity with nothing to merge).
 */
function spreadRows(
  out: AggregateRowDelta[],
  granularity: Granularity,
  minutes: Map<number, Row>,
): void {
  const size = GRANULARITY_MS[granularity];
  if (minutes.size === 1) {
    for (const row of minutes.values()) {
      const bucket = Math.floor(row.bucket / size) * size;
      out.push(inBucket(row, { granularity, bucket, fields: row.fields }));
    }
    return;
  }
  const merged = new Map<number, { row: Row; fields: Record<string, number> }>();
  for (const row of minutes.values()) {
    const bucket = Math.floor(row.bucket / size) * size;
    let target = merged.get(bucket);
    if (!target) merged.set(bucket, target = { row, fields: {} });
    addAll(target.fields, row.fields);
  }
  for (const [bucket, { row, fields }] of merged) {
    out.push(inBucket(row, { granularity, bucket, fields }));
  }
}

type Granularity = (typeof GRANULARITIES)[number];

/** A row's increments in a bucket (the fields object is shared, not copied: read only). */
function inBucket(
  row: Row,
  at: { granularity: Granularity; bucket: number; fields: Record<string, number> },
): AggregateRowDelta {
  return { ...at, keyId: row.keyId, model: row.model, tokenId: row.tokenId };
}

function addAll(target: Record<string, number>, fields: Record<string, number>): void {
  for (const field in fields) add(target, field, fields[field]!);
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
