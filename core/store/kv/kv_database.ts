/**
 * The part of a Deno KV handle the KV store uses, written out as plain types so the store runs
 * on any handle with Deno KV's methods and semantics (atomic checks, sums, expiry, ordered
 * lists): Deno's built-in KV (`Deno.openKv`), Deno Deploy's hosted KV, and Node.js through the
 * npm package `@deno/kv`. The store itself touches no runtime global.
 * @module
 */

/** One part of a key. */
export type KvKeyPart = Uint8Array | string | number | bigint | boolean | symbol;
/** A key: its parts, in order. */
export type KvKey = readonly KvKeyPart[];

/** A 64-bit unsigned counter as KV stores it (`Deno.KvU64`), the target of `sum` and `max`. */
export interface KvU64 {
  /** The count. */
  readonly value: bigint;
}

/** An entry that exists. */
export interface KvEntry<T> {
  /** Its key. */
  key: KvKey;
  /** Its value. */
  value: T;
  /** Changes on every write of the entry. */
  versionstamp: string;
}

/** An entry as read: it may not exist (value and versionstamp null). */
export type KvEntryMaybe<T> = KvEntry<T> | { key: KvKey; value: null; versionstamp: null };

/** A range of keys to list. */
export type KvListSelector =
  | { prefix: KvKey }
  | { prefix: KvKey; start: KvKey }
  | { prefix: KvKey; end: KvKey }
  | { start: KvKey; end: KvKey };

/** Options of a listing. */
export interface KvListOptions {
  /** Most entries returned. */
  limit?: number;
  /** Descending key order. */
  reverse?: boolean;
  /** Entries fetched per round trip. */
  batchSize?: number;
}

/** A check of an atomic operation: the entry still has this versionstamp (null: absent). */
export interface KvCheck {
  /** The entry's key. */
  key: KvKey;
  /** The versionstamp read, or null for an entry that must not exist. */
  versionstamp: string | null;
}

/** The outcome of a commit: not ok when a check failed. */
export interface KvCommitOutcome {
  /** Whether every check held and the mutations were written. */
  ok: boolean;
  /** The versionstamp every entry the commit wrote now has (when ok). */
  versionstamp?: string;
}

/** Options of a write. */
export interface KvSetOptions {
  /** Milliseconds after which KV may forget the entry (lazily). */
  expireIn?: number;
}

/** A batch of checks and mutations committed at once. */
export interface KvAtomic {
  /** Adds checks. */
  check(...checks: KvCheck[]): KvAtomic;
  /** Writes a value. */
  set(key: KvKey, value: unknown, options?: KvSetOptions): KvAtomic;
  /** Adds to a {@linkcode KvU64}. */
  sum(key: KvKey, n: bigint): KvAtomic;
  /** Raises a {@linkcode KvU64} to at least `n`. */
  max(key: KvKey, n: bigint): KvAtomic;
  /** Deletes an entry. */
  delete(key: KvKey): KvAtomic;
  /** Commits; may be called again after it threw (nothing was written then). */
  commit(): Promise<KvCommitOutcome>;
}

/**
 * The methods of a Deno KV handle the store calls. `Deno.Kv` is one; `@deno/kv`'s `Kv` has the
 * same methods, and the Node adapter hands it in as one (see `adapters/node/node_store.ts`).
 */
export interface KvDatabase {
  /** Reads one entry. */
  get<T = unknown>(key: KvKey): Promise<KvEntryMaybe<T>>;
  /** Reads up to ten entries in one snapshot. */
  getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: KvKey }],
  ): Promise<{ [K in keyof T]: KvEntryMaybe<T[K]> }>;
  /** Writes one entry. */
  set(key: KvKey, value: unknown, options?: KvSetOptions): Promise<KvCommitOutcome>;
  /** Lists a range of entries in key order. */
  list<T = unknown>(selector: KvListSelector, options?: KvListOptions): AsyncIterable<KvEntry<T>>;
  /** Starts an atomic operation. */
  atomic(): KvAtomic;
  /** Closes the handle. */
  close(): void;
}
