/**
 * The {@linkcode Store} on Deno KV, shared by every host that has a KV handle: the Deno server
 * (`Deno.openKv`: a local SQLite file, or Deno Deploy's hosted KV) and the Node.js server (the npm
 * package `@deno/kv` on a local file). It runs over the injected handle and touches no runtime
 * global; {@linkcode KvDatabase} spells out the methods it needs.
 *
 * Several processes may share one KV file: every call is retried while another holds the file's
 * lock ({@linkcode lockRetrying}).
 * @module
 */
export { createKvStore, type KvStoreOptions } from "./kv_store.ts";
export type {
  KvAtomic,
  KvDatabase,
  KvEntry,
  KvEntryMaybe,
  KvKey,
  KvListSelector,
  KvU64,
} from "./kv_database.ts";
export { isLocked, lockRetrying, retryLocked } from "./kv_retry.ts";
export { countKvLogs } from "./kv_log_pages.ts";
