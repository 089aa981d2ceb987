import { pacificDay } from "../../core/pacific_time.ts";
import { withEnabled } from "../../core/store/memory_store.ts";
import { createKvTokenCounters } from "./kv_token_counters.ts";
import { createKvLeases } from "./kv_leases.ts";
import { createKvAuthThrottle } from "./kv_auth_throttle.ts";
import type { KvDatabase } from "./kv_database.ts";
import { idAt, matchesLog } from "../../core/logs/log_filter.ts";
import type { LogRecord } from "../../core/logs/log_record.ts";
import type {
  AggregateRow,
  CooldownRecord,
  KeyRecord,
  KeyStateRecord,
  KeyUsageTotal,
  Store,
  TokenRecord,
} from "../../core/store/store.ts";

const VERSION_KEY: Deno.KvKey = ["meta", "version"];
const COOLDOWN_VERSION_KEY: Deno.KvKey = ["meta", "cooldowns"];
/** Minute counters are kept a little longer than their window, day counters about a month. */
const MINUTE_RETENTION_MS = 10 * 60_000;
const DAY_RETENTION_MS = 35 * 24 * 3600_000;
/** Deno KV allows at most this many mutations in one atomic commit. */
const MAX_MUTATIONS = 1000;
/** Stay well under Deno KV's 800 KB total mutation size per commit. */
const MAX_BATCH_BYTES = 512 * 1024;
/** How long aggregate buckets are kept, by granularity. */
const AGGREGATE_RETENTION_MS = {
  m: 2 * 24 * 3600_000,
  h: 40 * 24 * 3600_000,
  d: 400 * 24 * 3600_000,
};
/** Most log records scanned for one filtered page before returning a cursor. */
const MAX_SCAN = 20_000;

/** Options of {@linkcode createKvStore}. */
export interface KvStoreOptions {
  /** Clock for expiry checks (default `Date.now`); KV's own `expireIn` is lazy. */
  now?: () => number;
}

/**
 * A {@linkcode Store} on Deno KV: a local SQLite file, `:memory:`, or Deno Deploy's hosted KV; on
 * Node.js, a local SQLite file opened with the npm package `@deno/kv`.
 *
 * Every mutation also bumps `["meta","version"]` in the same atomic commit, so other processes on
 * the same database notice changes by polling or watching that one entry.
 * @param kv An open Deno KV handle (`Deno.openKv`, or `@deno/kv`'s `openKv` on Node.js); the store
 *   closes it on {@linkcode Store.close}.
 * @param options Injected clock.
 * @returns The store.
 * @example
 * ```ts
 * const store = createKvStore(await Deno.openKv("./data/proxy.kv"));
 * ```
 */
export function createKvStore(kv: KvDatabase, options: KvStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const tokenCounters = createKvTokenCounters(kv, now);
  const leases = createKvLeases(kv, now);
  const authThrottle = createKvAuthThrottle(kv, now);
  let aggregatesPrunedAt = 0;
  /** Drops aggregate buckets past their retention, at most once a minute. */
  async function pruneAggregates(): Promise<void> {
    const t = now();
    if (t - aggregatesPrunedAt < 60_000) return;
    aggregatesPrunedAt = t;
    for (const granularity of ["m", "h", "d"] as const) {
      const end = t - AGGREGATE_RETENTION_MS[granularity];
      const op = kv.atomic();
      let n = 0;
      for await (
        const entry of kv.list({ start: ["agg", granularity, 0], end: ["agg", granularity, end] }, {
          limit: 500,
        })
      ) {
        op.delete(entry.key);
        n++;
      }
      if (n > 0) await op.commit();
    }
  }

  let prunedAt = 0;
  /** Drops counter windows that have ended, at most once a minute. */
  async function pruneUsage(): Promise<void> {
    const t = now();
    if (t - prunedAt < 60_000) return;
    prunedAt = t;
    const oldMinute = `m${Math.floor((t - MINUTE_RETENTION_MS) / 60_000)}`;
    const oldDay = `d${pacificDay(t - DAY_RETENTION_MS)}`;
    for (const [start, end] of [["m", oldMinute], ["d", oldDay]]) {
      const op = kv.atomic();
      let n = 0;
      for await (
        const entry of kv.list({ start: ["usage", start!], end: ["usage", end!] }, { limit: 500 })
      ) {
        op.delete(entry.key);
        n++;
      }
      if (n > 0) await op.commit();
    }
  }

  async function list<T extends { createdAt: number; id: string }>(prefix: string): Promise<T[]> {
    const out: T[] = [];
    for await (const entry of kv.list<T>({ prefix: [prefix] })) out.push(entry.value);
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }
  async function insert(prefix: string, record: { id: string }): Promise<boolean> {
    const key = [prefix, record.id];
    const result = await kv.atomic()
      .check({ key, versionstamp: null })
      .set(key, record)
      .sum(VERSION_KEY, 1n)
      .commit();
    return result.ok;
  }
  async function replace(prefix: string, record: { id: string }): Promise<boolean> {
    const key = [prefix, record.id];
    for (;;) {
      const current = await kv.get(key);
      if (current.versionstamp === null) return false;
      const result = await kv.atomic()
        .check(current)
        .set(key, record)
        .sum(VERSION_KEY, 1n)
        .commit();
      if (result.ok) return true;
    }
  }
  async function remove(prefix: string, id: string): Promise<boolean> {
    const key = [prefix, id];
    for (;;) {
      const current = await kv.get(key);
      if (current.versionstamp === null) return false;
      const result = await kv.atomic().check(current).delete(key).sum(VERSION_KEY, 1n).commit();
      if (result.ok) return true;
    }
  }

  return {
    kind: "kv",
    listKeys: () => list<KeyRecord>("keys"),
    addKey: (record) => insert("keys", record),
    updateKey: (record) => replace("keys", record),
    async setKeyEnabled(id, enabled, reason, at) {
      const key = ["keys", id];
      for (;;) {
        const current = await kv.get<KeyRecord>(key);
        if (current.value === null) return null;
        const next = withEnabled(current.value, enabled, reason, at ?? now());
        const result = await kv.atomic().check(current).set(key, next).sum(VERSION_KEY, 1n)
          .commit();
        if (result.ok) return next;
      }
    },
    deleteKey: (id) => remove("keys", id),
    listTokens: async () => tokenCounters.withLastUsed(await list<TokenRecord>("tokens")),
    addToken: (record) => insert("tokens", record),
    updateToken: (record) => replace("tokens", record),
    deleteToken: (id) => remove("tokens", id),
    async version() {
      const entry = await kv.get(VERSION_KEY);
      return entry.versionstamp ?? "0";
    },
    async setCooldown(cooldown) {
      const key = ["cooldowns", cooldown.scope, cooldown.model];
      const ttl = Math.max(1000, cooldown.until - now());
      for (;;) {
        const current = await kv.get<CooldownRecord>(key);
        if (current.value && current.value.until >= cooldown.until && current.value.until > now()) {
          return;
        }
        const result = await kv.atomic().check(current)
          .set(key, cooldown, { expireIn: ttl })
          .sum(COOLDOWN_VERSION_KEY, 1n)
          .commit();
        if (result.ok) return;
      }
    },
    async listCooldowns() {
      const t = now();
      const out: CooldownRecord[] = [];
      for await (const entry of kv.list<CooldownRecord>({ prefix: ["cooldowns"] })) {
        if (entry.value.until > t) out.push(entry.value);
      }
      return out;
    },
    async cooldownVersion() {
      return (await kv.get(COOLDOWN_VERSION_KEY)).versionstamp ?? "0";
    },
    async addKeyUsage(deltas) {
      const sums = new Map<string, { key: Deno.KvKey; value: bigint }>();
      for (const d of deltas) {
        const [minute, day] = usageWindows(d.at);
        for (
          const [window, kind, value] of [
            [minute, "r", d.requests],
            [minute, "t", d.tokens],
            [day, "r", d.requests],
            [day, "t", d.tokens],
          ] as const
        ) {
          if (value <= 0) continue;
          const key: Deno.KvKey = ["usage", window, d.keyId, d.model, kind];
          const id = JSON.stringify(key);
          const entry = sums.get(id);
          if (entry) entry.value += BigInt(Math.round(value));
          else sums.set(id, { key, value: BigInt(Math.round(value)) });
        }
      }
      const all = [...sums.values()];
      for (let i = 0; i < all.length; i += MAX_MUTATIONS) {
        const op = kv.atomic();
        for (const { key, value } of all.slice(i, i + MAX_MUTATIONS)) {
          op.sum(key, value);
        }
        await op.commit();
      }
      await pruneUsage();
    },
    async readKeyUsage(at) {
      const [minute, day] = usageWindows(at);
      const totals = new Map<string, KeyUsageTotal>();
      for (const window of [minute, day]) {
        for await (const entry of kv.list<Deno.KvU64>({ prefix: ["usage", window] })) {
          const [, , keyId, model, kind] = entry.key as [string, string, string, string, string];
          const id = `${keyId}\u0000${model}`;
          const total = totals.get(id) ??
            { keyId, model, minute: 0, day: 0, minuteTokens: 0, dayTokens: 0 };
          const value = Number(entry.value.value);
          if (window === minute) total[kind === "r" ? "minute" : "minuteTokens"] += value;
          else total[kind === "r" ? "day" : "dayTokens"] += value;
          totals.set(id, total);
        }
      }
      return [...totals.values()];
    },
    async putKeyStates(states) {
      for (let i = 0; i < states.length; i += 10) {
        const batch = states.slice(i, i + 10);
        const current = await kv.getMany<KeyStateRecord[]>(batch.map((s) => ["keystate", s.keyId]));
        const op = kv.atomic();
        batch.forEach((state, j) => {
          op.set(["keystate", state.keyId], { ...current[j]?.value, ...state });
        });
        await op.commit();
      }
    },
    async listKeyStates() {
      const out: KeyStateRecord[] = [];
      for await (const entry of kv.list<KeyStateRecord>({ prefix: ["keystate"] })) {
        out.push(entry.value);
      }
      return out;
    },
    async insertLogs(records, deltas, retentionMs) {
      let op = kv.atomic();
      let mutations = 0;
      let bytes = 0;
      async function push(size: number, add: (op: Deno.AtomicOperation) => void): Promise<void> {
        if (mutations + 1 > MAX_MUTATIONS || bytes + size > MAX_BATCH_BYTES) {
          await commitOrThrow(op);
          op = kv.atomic();
          mutations = 0;
          bytes = 0;
        }
        add(op);
        mutations++;
        bytes += size;
      }
      for (const record of records) {
        const size = JSON.stringify(record).length + 64;
        await push(size, (o) => o.set(["logs", record.id], record, { expireIn: retentionMs }));
      }
      for (const d of deltas) {
        const key = ["agg", d.granularity, d.bucket, d.keyId, d.model, d.tokenId, d.field];
        await push(128, (o) => o.sum(key, BigInt(Math.max(0, Math.round(d.value)))));
      }
      if (mutations > 0) await commitOrThrow(op);
      await pruneAggregates();
    },
    async listLogs(filter, limit, cursor) {
      const out: LogRecord[] = [];
      const selector: Deno.KvListSelector = {
        start: ["logs", filter.from !== undefined ? idAt(filter.from) : ""],
        end: ["logs", cursor ?? (filter.to !== undefined ? idAt(filter.to) : "\uffff")],
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
    },
    async getLog(id) {
      return (await kv.get<LogRecord>(["logs", id])).value;
    },
    async readAggregates(granularity, from, to, options = {}) {
      const rows = new Map<string, AggregateRow>();
      // Roll-up rows sit under each bucket's "*" key: one short range per bucket instead of
      // every key x model x token row of the whole range.
      const size = granularity === "m" ? 60_000 : granularity === "h" ? 3_600_000 : 86_400_000;
      const selectors: Deno.KvListSelector[] = [];
      if (options.rollupOnly) {
        for (let bucket = Math.ceil(from / size) * size; bucket < to; bucket += size) {
          selectors.push({ prefix: ["agg", granularity, bucket, "*"] });
        }
      } else {
        selectors.push({ start: ["agg", granularity, from], end: ["agg", granularity, to] });
      }
      const lists = selectors.map((selector) =>
        collect(kv.list<Deno.KvU64>(selector, { batchSize: 1000 }))
      );
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
    },
    async addCounter(name, value) {
      await kv.atomic().sum(["counter", name], BigInt(Math.max(0, Math.round(value)))).commit();
    },
    async readCounter(name) {
      const entry = await kv.get<Deno.KvU64>(["counter", name]);
      return entry.value ? Number(entry.value.value) : 0;
    },
    // Token usage and limit leases
    addTokenUsage: tokenCounters.addTokenUsage,
    readTokenUsage: tokenCounters.readTokenUsage,
    takeLeases: leases.takeLeases,
    async getSettings() {
      return (await kv.get<Record<string, unknown>>(["settings"])).value ?? {};
    },
    async putSettings(settings) {
      await kv.atomic().set(["settings"], settings).sum(VERSION_KEY, 1n).commit();
    },
    async putAffinity(resource, keyId, ttlMs) {
      const value = { keyId, until: now() + ttlMs };
      await kv.set(["affinity", resource], value, { expireIn: ttlMs });
    },
    async getAffinity(resource) {
      const entry = await kv.get<{ keyId: string; until: number }>(["affinity", resource]);
      if (!entry.value || entry.value.until <= now()) return null;
      return entry.value.keyId;
    },
    readAuthThrottle: authThrottle.readAuthThrottle,
    writeAuthThrottle: authThrottle.writeAuthThrottle,
    async ping() {
      await kv.get(VERSION_KEY);
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}

/** The minute and Pacific-day window names containing a moment. */
function usageWindows(at: number): [string, string] {
  return [`m${Math.floor(at / 60_000)}`, `d${pacificDay(at)}`];
}

async function commitOrThrow(op: Deno.AtomicOperation): Promise<void> {
  const result = await op.commit();
  if (!result.ok) throw new Error("Deno KV refused a log batch");
}

/** Reads an async iterator into an array (`Array.fromAsync` is missing from Node.js 20). */
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
