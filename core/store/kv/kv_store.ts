/**
 * A {@linkcode Store} on Deno KV.
 * @module
 */
import type { Store, TokenRecord } from "../mod.ts";
import { createKvAuthThrottle } from "./kv_auth_throttle.ts";
import type { KvDatabase } from "./kv_database.ts";
import { createKvKeyUsage } from "./kv_key_usage.ts";
import { createKvLeases } from "./kv_leases.ts";
import { createKvLogs } from "./kv_logs.ts";
import { createKvRecords, listRecords, VERSION_KEY } from "./kv_records.ts";
import { lockRetrying } from "./kv_retry.ts";
import { createKvTokenCounters } from "./kv_token_counters.ts";

/** Options of {@linkcode createKvStore}. */
export interface KvStoreOptions {
  /** Clock for expiry checks (default `Date.now`); KV's own `expireIn` is lazy. */
  now?: () => number;
}

/**
 * A {@linkcode Store} on Deno KV: a local SQLite file, `:memory:`, or Deno Deploy's hosted KV; on
 * Node.js, a local SQLite file opened with the npm package `@deno/kv`.
 *
 * Every mutation of keys, tokens or settings also bumps `["meta","version"]` in the same atomic
 * commit, so other processes on the same database notice changes by polling that one entry. Every
 * call goes through one retry while another process holds the file's lock (`kv_retry.ts`).
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
  const db = lockRetrying(kv);
  const tokenCounters = createKvTokenCounters(db, now);
  const authThrottle = createKvAuthThrottle(db, now);
  return {
    kind: "kv",
    ...createKvRecords(db, now),
    listTokens: async () =>
      tokenCounters.withLastUsed(await listRecords<TokenRecord>(db, "tokens")),
    ...createKvKeyUsage(db, now),
    ...createKvLogs(db, now),
    addTokenUsage: tokenCounters.addTokenUsage,
    readTokenUsage: tokenCounters.readTokenUsage,
    ...createKvLeases(db, now),
    readAuthThrottle: authThrottle.readAuthThrottle,
    writeAuthThrottle: authThrottle.writeAuthThrottle,
    async ping() {
      await db.get(VERSION_KEY);
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}
