/**
 * The part of a Deno KV handle the KV store uses, so one store runs on Deno's built-in KV
 * (`Deno.openKv`) and on Node.js through the npm package `@deno/kv` (`openKv`), whose handle has
 * the same methods and semantics (atomic checks, sums, expiry, ordered lists).
 * @module
 */

/**
 * The methods of a Deno KV handle the store calls. `Deno.Kv` is one; `@deno/kv`'s `Kv` has the
 * same methods, and the Node adapter hands it in as one (see `adapters/node/node_store.ts`).
 */
export type KvDatabase = Pick<Deno.Kv, "get" | "getMany" | "set" | "list" | "atomic" | "close">;
