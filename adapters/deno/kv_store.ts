import { pacificDay } from "../../core/pacific_time.ts";
import { withEnabled } from "../../core/store/memory_store.ts";
import type {
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

/** Options of {@linkcode createKvStore}. */
export interface KvStoreOptions {
  /** Clock for expiry checks (default `Date.now`); KV's own `expireIn` is lazy. */
  now?: () => number;
}

/**
 * A {@linkcode Store} on Deno KV: a local SQLite file, `:memory:`, or Deno Deploy's hosted KV.
 *
 * Every mutation also bumps `["meta","version"]` in the same atomic commit, so other processes on
 * the same database notice changes by polling or watching that one entry.
 * @param kv An open Deno KV handle; the store closes it on {@linkcode Store.close}.
 * @param options Injected clock.
 * @returns The store.
 * @example
 * ```ts
 * const store = createKvStore(await Deno.openKv("./data/proxy.kv"));
 * ```
 */
export function createKvStore(kv: Deno.Kv, options: KvStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
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
    listTokens: () => list<TokenRecord>("tokens"),
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
    async putAffinity(resource, keyId, ttlMs) {
      const value = { keyId, until: now() + ttlMs };
      await kv.set(["affinity", resource], value, { expireIn: ttlMs });
    },
    async getAffinity(resource) {
      const entry = await kv.get<{ keyId: string; until: number }>(["affinity", resource]);
      if (!entry.value || entry.value.until <= now()) return null;
      return entry.value.keyId;
    },
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
