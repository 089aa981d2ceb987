import type { KeyRecord, Store, TokenRecord } from "../../core/store/store.ts";

const VERSION_KEY: Deno.KvKey = ["meta", "version"];

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
    deleteKey: (id) => remove("keys", id),
    listTokens: () => list<TokenRecord>("tokens"),
    addToken: (record) => insert("tokens", record),
    updateToken: (record) => replace("tokens", record),
    deleteToken: (id) => remove("tokens", id),
    async version() {
      const entry = await kv.get(VERSION_KEY);
      return entry.versionstamp ?? "0";
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
