/**
 * Request logs, their aggregate counters and named counters on Deno KV:
 * - `["logp", maxId]` holds a packed page of records (`kv_log_pages.ts`; `["logs", id]` entries
 *   of older versions are still read);
 * - `["agg", granularity, bucket, "*", model, "*", field]` a roll-up counter of a minute, hour or
 *   day bucket, summed (`kv_aggregates.ts`): a few rows per bucket, read by the common views;
 * - `["aggp", granularity, bucket, segment, part]` the rows of every key, model and token, packed
 *   per writer (`kv_packed_counters.ts`): one value holds hundreds of rows, so a second of traffic
 *   over thousands of keys costs a few writes, not one per key and counter. (Stores written by
 *   older versions hold these rows as `["agg", ...]` sums too; both are read.)
 * - `["counter", name]` a named counter.
 * @module
 */
import {
  type AggregateBatch,
  type AggregateRow,
  type AggregateSpan,
  fieldDeltas,
  type LogStore,
} from "../mod.ts";
import { writeAggregates } from "./kv_aggregates.ts";
import { PackedCounters, readPacked } from "./kv_packed_counters.ts";
import { collect, createPruner, nextTask } from "./kv_batch.ts";
import type { KvDatabase, KvListSelector, KvU64 } from "./kv_database.ts";
import { getPagedLog, listPagedLogs, writePages } from "./kv_log_pages.ts";

/** How long aggregate buckets are kept, by granularity. */
const AGGREGATE_RETENTION_MS = {
  m: 2 * 24 * 3600_000,
  h: 40 * 24 * 3600_000,
  d: 400 * 24 * 3600_000,
};
/** Key and token id of the roll-up rows (every key and token of a bucket and model summed). */
const ROLLUP = "*";
/** Prefix of the packed rows of every key, model and token. */
const PACKED = "aggp";
/** Rows added to the packed counters between two turns of the event loop. */
const ROWS_PER_SLICE = 2_000;
/** Batch ids remembered as added (the log writer retries one batch at a time). */
const RETRIED_BATCHES = 64;
/** Bucket sizes by granularity, ms. */
const BUCKET_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The store methods on logs and counters. */
export type KvLogs = LogStore;

/**
 * Creates the log methods on an open handle.
 * @param kv The database (retrying while locked).
 * @param now Clock (epoch ms), for pruning old buckets.
 */
export function createKvLogs(kv: KvDatabase, now: () => number): KvLogs {
  const prune = createPruner(kv, now);
  const pruneBuckets = () =>
    prune((at) =>
      (["m", "h", "d"] as const).flatMap((g) =>
        ["agg", PACKED].map((prefix) => ({
          start: [prefix, g, 0],
          end: [prefix, g, at - AGGREGATE_RETENTION_MS[g]],
        }))
      )
    );
  const packed = new PackedCounters(kv, { prefix: PACKED, now });
  /** Ids of the batches already added to `packed`: a retried batch is written, not added again. */
  const added: string[] = [];
  async function addAggregates(batch: AggregateBatch) {
    if (batch.rows.length === 0) return;
    const rollups = batch.rows.filter(isRollup);
    if (!added.includes(batch.id)) {
      for (let i = 0; i < batch.rows.length; i++) {
        // Thousands of keys' rows are added a slice at a time, requests served in between.
        if (i > 0 && i % ROWS_PER_SLICE === 0) await nextTask();
        const r = batch.rows[i]!;
        if (isRollup(r)) continue;
        const row = packed.row([r.granularity, r.bucket], [r.keyId, r.model, r.tokenId]);
        for (const field in r.fields) row.add(field, Math.round(r.fields[field]!));
      }
      added.push(batch.id);
      if (added.length > RETRIED_BATCHES) added.shift();
    }
    // The roll-up rows stay atomic sums, each part marked with the batch id: a handful per
    // bucket, fresh every second for the dashboard's common views.
    await writeAggregates(kv, { id: batch.id, deltas: fieldDeltas(rollups) });
    await packed.write();
    await pruneBuckets();
  }
  return {
    async insertLogs(records, deltas, retentionMs) {
      if (records.length > 0) await writePages(kv, { records, retentionMs });
      if (deltas.length > 0) {
        const rows = deltas.map(({ field, value, ...row }) => ({
          ...row,
          fields: { [field]: value },
        }));
        await addAggregates({ id: crypto.randomUUID(), rows });
      }
    },
    addAggregates,
    listLogs: (filter, limit, cursor) => listPagedLogs(kv, { filter, limit, cursor }),
    getLog: (id) => getPagedLog(kv, id),
    readAggregates: (granularity, span) => readAggregates(kv, { granularity, ...span }),
    async addCounter(name, value) {
      await kv.atomic().sum(["counter", name], BigInt(Math.max(0, Math.round(value)))).commit();
    },
    async readCounter(name) {
      const entry = await kv.get<KvU64>(["counter", name]);
      return entry.value ? Number(entry.value.value) : 0;
    },
  };
}

function isRollup(d: { keyId: string; tokenId: string }): boolean {
  return d.keyId === ROLLUP && d.tokenId === ROLLUP;
}

/** The aggregate rows of a range, summed per bucket, key, model and token. */
async function readAggregates(
  kv: KvDatabase,
  range: { granularity: "m" | "h" | "d" } & AggregateSpan,
): Promise<AggregateRow[]> {
  const { granularity, from, to } = range;
  const rows = new Map<string, AggregateRow>();
  // Roll-up rows sit under each bucket's "*" key: one short range per bucket instead of
  // every key x model x token row of the whole range.
  const size = BUCKET_MS[granularity];
  const selectors: KvListSelector[] = [];
  if (range.rollupOnly) {
    for (let bucket = Math.ceil(from / size) * size; bucket < to; bucket += size) {
      selectors.push({ prefix: ["agg", granularity, bucket, ROLLUP] });
    }
  } else {
    selectors.push({ start: ["agg", granularity, from], end: ["agg", granularity, to] });
  }
  const lists = selectors.map((selector) => collect(kv.list<KvU64>(selector, { batchSize: 1000 })));
  const packed = range.rollupOnly ? Promise.resolve() : readPacked(
    kv,
    { start: [PACKED, granularity, from], end: [PACKED, granularity, to] },
    (scope, [keyId = "-", model = "-", tokenId = "-"], fields) => {
      const bucket = scope[1] as number;
      const id = `${bucket}\u0000${keyId}\u0000${model}\u0000${tokenId}`;
      let row = rows.get(id);
      if (!row) rows.set(id, row = { bucket, keyId, model, tokenId, fields: Object.create(null) });
      for (const field in fields) row.fields[field] = (row.fields[field] ?? 0) + fields[field]!;
    },
  );
  const [listed] = await Promise.all([Promise.all(lists), packed]);
  for (const entry of listed.flat()) {
    const [, , bucket, keyId, model, tokenId, field] = entry.key as [
      string,
      string,
      number,
      string,
      string,
      string,
      string,
    ];
    const id = `${bucket}\u0000${keyId}\u0000${model}\u0000${tokenId}`;
    let row = rows.get(id);
    if (!row) rows.set(id, row = { bucket, keyId, model, tokenId, fields: Object.create(null) });
    row.fields[field] = (row.fields[field] ?? 0) + Number(entry.value.value);
  }
  return [...rows.values()];
}
