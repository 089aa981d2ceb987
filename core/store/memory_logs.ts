/**
 * Request logs, their aggregate counters, named counters and keys' counters of the memory store.
 * @module
 */
import { matchesLog } from "./log_filter.ts";
import type { LogRecord } from "./log_record.ts";
import {
  type AggregateDelta,
  type AggregateRow,
  fieldDeltas,
  type KeyStateRecord,
  type KeyUsageTotal,
} from "./records.ts";
import type { LogStore, Store } from "./store.ts";
import { windowNames } from "./windows.ts";

/** The store methods on logs and counters. */
export type MemoryLogs = LogStore;

/** Batch ids remembered, so a retried aggregate batch is added once. */
const SEEN_BATCHES = 1024;

/**
 * Creates the log methods.
 * @param now Clock (epoch ms), for log expiry.
 */
export function createMemoryLogs(now: () => number): MemoryLogs {
  const logs: { record: LogRecord; until: number }[] = [];
  const aggregates = new Map<string, AggregateRow>();
  const counters = new Map<string, number>();
  const seen = new Set<string>();
  return {
    insertLogs(records, deltas, retentionMs) {
      const until = now() + retentionMs;
      const batch = records.map((r) => ({ record: structuredClone(r), until })).sort(byId);
      const tail = logs.at(-1);
      for (const entry of batch) logs.push(entry);
      // Batches mostly follow what is stored: sort everything only when one does not.
      if (tail && batch[0] && batch[0].record.id < tail.record.id) logs.sort(byId);
      for (const d of deltas) addDelta(aggregates, d);
      return Promise.resolve();
    },
    addAggregates({ id, rows }) {
      if (seen.has(id)) return Promise.resolve();
      seen.add(id);
      if (seen.size > SEEN_BATCHES) seen.delete(seen.values().next().value!);
      for (const d of fieldDeltas(rows)) addDelta(aggregates, d);
      return Promise.resolve();
    },
    listLogs(filter, limit, cursor) {
      const t = now();
      const out: LogRecord[] = [];
      let next: string | null = null;
      for (let i = logs.length - 1; i >= 0; i--) {
        const { record, until } = logs[i]!;
        if (until <= t || (cursor && record.id >= cursor)) continue;
        if (!matchesLog(record, filter)) continue;
        if (out.length === limit) {
          next = out.at(-1)!.id;
          break;
        }
        out.push(structuredClone(record));
      }
      return Promise.resolve({ logs: out, cursor: next });
    },
    getLog(id) {
      const entry = logs.find((l) => l.record.id === id && l.until > now());
      return Promise.resolve(entry ? structuredClone(entry.record) : null);
    },
    readAggregates(granularity, { from, to }) {
      const out: AggregateRow[] = [];
      for (const [id, row] of aggregates) {
        if (id.startsWith(`${granularity}\u0000`) && row.bucket >= from && row.bucket < to) {
          out.push(structuredClone(row));
        }
      }
      return Promise.resolve(out.sort((a, b) => a.bucket - b.bucket));
    },
    addCounter(name, value) {
      counters.set(name, (counters.get(name) ?? 0) + value);
      return Promise.resolve();
    },
    readCounter: (name) => Promise.resolve(counters.get(name) ?? 0),
  };
}

function byId(a: { record: LogRecord }, b: { record: LogRecord }): number {
  return a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0;
}

function addDelta(aggregates: Map<string, AggregateRow>, d: AggregateDelta): void {
  const id = [d.granularity, d.bucket, d.keyId, d.model, d.tokenId].join("\u0000");
  let row = aggregates.get(id);
  if (!row) {
    row = { bucket: d.bucket, keyId: d.keyId, model: d.model, tokenId: d.tokenId, fields: {} };
    aggregates.set(id, row);
  }
  row.fields[d.field] = (row.fields[d.field] ?? 0) + d.value;
}

/** The store methods on keys' counters and states. */
export type MemoryKeyUsage = Pick<
  Store,
  "addKeyUsage" | "readKeyUsage" | "putKeyStates" | "listKeyStates"
>;

/** Creates keys' counters and states. */
export function createMemoryKeyUsage(): MemoryKeyUsage {
  const usage = new Map<string, number>();
  const states = new Map<string, KeyStateRecord>();
  return {
    addKeyUsage(deltas) {
      for (const d of deltas) {
        const { minute, day } = windowNames(d.at);
        for (const window of [minute, day]) {
          const base = `${window}\u0000${d.keyId}\u0000${d.model}`;
          usage.set(`${base}\u0000r`, (usage.get(`${base}\u0000r`) ?? 0) + d.requests);
          usage.set(`${base}\u0000t`, (usage.get(`${base}\u0000t`) ?? 0) + d.tokens);
        }
      }
      return Promise.resolve();
    },
    readKeyUsage: (at) => Promise.resolve(keyUsageAt(usage, at)),
    putKeyStates(list) {
      for (const state of list) {
        states.set(state.keyId, { ...states.get(state.keyId), ...state });
      }
      return Promise.resolve();
    },
    listKeyStates: () => Promise.resolve([...states.values()].map((s) => ({ ...s }))),
  };
}

/** Every key's requests and tokens in the minute and Pacific day containing `at`. */
function keyUsageAt(usage: Map<string, number>, at: number): KeyUsageTotal[] {
  const { minute, day } = windowNames(at);
  const totals = new Map<string, KeyUsageTotal>();
  for (const [id, value] of usage) {
    const [window, keyId = "", model = "", kind] = id.split("\u0000");
    if (window !== minute && window !== day) continue;
    const key = `${keyId}\u0000${model}`;
    const total = totals.get(key) ??
      { keyId, model, minute: 0, day: 0, minuteTokens: 0, dayTokens: 0 };
    if (window === minute) total[kind === "r" ? "minute" : "minuteTokens"] += value;
    else total[kind === "r" ? "day" : "dayTokens"] += value;
    totals.set(key, total);
  }
  return [...totals.values()];
}
