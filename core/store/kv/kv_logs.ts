/**
 * Request logs, their aggregate counters and named counters on Deno KV: `["logp", maxId]` holds a
 * packed page of records (`kv_log_pages.ts`; `["logs", id]` entries of older versions are still
 * read), `["agg", granularity, bucket, keyId, model, tokenId, field]` a counter of a minute, hour
 * or day bucket (`kv_aggregates.ts`), `["counter", name]` a named counter.
 * @module
 */
import type { AggregateRow, AggregateSpan, LogStore } from "../mod.ts";
import { writeAggregates } from "./kv_aggregates.ts";
import { collect, createPruner } from "./kv_batch.ts";
import type { KvDatabase, KvListSelector, KvU64 } from "./kv_database.ts";
import { getPagedLog, listPagedLogs, writePages } from "./kv_log_pages.ts";

/** How long aggregate buckets are kept, by granularity. */
const AGGREGATE_RETENTION_MS = {
  m: 2 * 24 * 3600_000,
  h: 40 * 24 * 3600_000,
  d: 400 * 24 * 3600_000,
};
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
      (["m", "h", "d"] as const).map((g) => ({
        start: ["agg", g, 0],
        end: ["agg", g, at - AGGREGATE_RETENTION_MS[g]],
      }))
    );
  async function addAggregates(batch: Parameters<LogStore["addAggregates"]>[0]) {
    if (batch.deltas.length === 0) return;
    await writeAggregates(kv, batch);
    await pruneBuckets();
  }
  return {
    async insertLogs(records, deltas, retentionMs) {
      if (records.length > 0) await writePages(kv, { records, retentionMs });
      if (deltas.length > 0) await addAggregates({ id: crypto.randomUUID(), deltas });
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
      selectors.push({ prefix: ["agg", granularity, bucket, "*"] });
    }
  } else {
    selectors.push({ start: ["agg", granularity, from], end: ["agg", granularity, to] });
  }
  const lists = selectors.map((selector) => collect(kv.list<KvU64>(selector, { batchSize: 1000 })));
  for (const entry of (await Promise.all(lists)).flat()) {
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
    if (!row) rows.set(id, row = { bucket, keyId, model, tokenId, fields: {} });
    row.fields[field] = Number(entry.value.value);
  }
  return [...rows.values()];
}
