/**
 * Request logs, their aggregate counters and named counters on Deno KV: `["logs", id]` holds a
 * record (expiring after the retention), `["agg", granularity, bucket, keyId, model, tokenId,
 * field]` a counter of a minute, hour or day bucket, `["counter", name]` a named counter.
 * @module
 */
import {
  type AggregateRow,
  type AggregateSpan,
  idAt,
  type LogFilter,
  type LogPage,
  type LogRecord,
  matchesLog,
  type Store,
} from "../mod.ts";
import { collect, commitInBatches, createPruner, type Mutation } from "./kv_batch.ts";
import type { KvDatabase, KvListSelector, KvU64 } from "./kv_database.ts";

/** How long aggregate buckets are kept, by granularity. */
const AGGREGATE_RETENTION_MS = {
  m: 2 * 24 * 3600_000,
  h: 40 * 24 * 3600_000,
  d: 400 * 24 * 3600_000,
};
/** Most log records scanned for one filtered page before returning a cursor. */
const MAX_SCAN = 20_000;
/** Bucket sizes by granularity, ms. */
const BUCKET_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The store methods on logs and counters. */
export type KvLogs = Pick<
  Store,
  "insertLogs" | "listLogs" | "getLog" | "readAggregates" | "addCounter" | "readCounter"
>;

/**
 * Creates the log methods on an open handle.
 * @param kv The database (retrying while locked).
 * @param now Clock (epoch ms), for pruning old buckets.
 */
export function createKvLogs(kv: KvDatabase, now: () => number): KvLogs {
  const prune = createPruner(kv, now);
  return {
    async insertLogs(records, deltas, retentionMs) {
      const mutations: Mutation[] = records.map((record) => ({
        bytes: JSON.stringify(record).length + 64,
        apply: (op) => void op.set(["logs", record.id], record, { expireIn: retentionMs }),
      }));
      for (const d of deltas) {
        const key = ["agg", d.granularity, d.bucket, d.keyId, d.model, d.tokenId, d.field];
        const value = BigInt(Math.max(0, Math.round(d.value)));
        mutations.push({ bytes: 128, apply: (op) => void op.sum(key, value) });
      }
      await commitInBatches(kv, mutations);
      await prune((at) =>
        (["m", "h", "d"] as const).map((g) => ({
          start: ["agg", g, 0],
          end: ["agg", g, at - AGGREGATE_RETENTION_MS[g]],
        }))
      );
    },
    listLogs: (filter, limit, cursor) => listLogs(kv, { filter, limit, cursor }),
    getLog: async (id) => (await kv.get<LogRecord>(["logs", id])).value,
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

/** One page of records matching a filter, newest first, with a cursor when more may follow. */
async function listLogs(
  kv: KvDatabase,
  page: { filter: LogFilter; limit: number; cursor: string | null | undefined },
): Promise<LogPage> {
  const { filter, limit } = page;
  const out: LogRecord[] = [];
  const selector: KvListSelector = {
    start: ["logs", filter.from !== undefined ? idAt(filter.from) : ""],
    end: ["logs", page.cursor ?? (filter.to !== undefined ? idAt(filter.to) : "\uffff")],
  };
  let scanned = 0;
  let last: string | null = null;
  for await (const entry of kv.list<LogRecord>(selector, { reverse: true, batchSize: 500 })) {
    scanned++;
    last = entry.value.id;
    if (matchesLog(entry.value, filter)) {
      out.push(entry.value);
      if (out.length === limit) return { logs: out, cursor: entry.value.id };
    }
    if (scanned >= MAX_SCAN) return { logs: out, cursor: last };
  }
  return { logs: out, cursor: null };
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
