/**
 * Deno KV's limits and the helpers every part of the KV store writes and prunes with: one way to
 * split mutations into commits, one way to add up counter sums, one way to drop old windows.
 * @module
 */
import type { KvAtomic, KvDatabase, KvKey, KvListSelector } from "./kv_database.ts";

/** Deno KV allows at most this many mutations in one atomic commit. */
export const MAX_MUTATIONS = 1000;
/** Stay well under Deno KV's 800 KB total mutation size per commit. */
export const MAX_BATCH_BYTES = 512 * 1024;
/**
 * Stay under Deno KV's 81,920 bytes of keys per commit (about 800 counter keys of 100 bytes: a
 * commit of 1000 such sums is refused whole).
 */
export const MAX_KEY_BYTES = 72 * 1024;
/** Deno KV reads at most this many keys at once (`getMany`). */
export const MAX_READ_KEYS = 10;
/** Size counted for a counter mutation, bytes. */
const SUM_BYTES = 128;
/** Entries deleted per range each time a store prunes. */
const PRUNE_LIMIT = 500;
/** How often a store prunes, ms. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Resolves once the tasks already queued (requests among them) have run: long store work yields
 * with it, so no request waits behind a whole batch.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** One mutation of a batch and its approximate size. */
export interface Mutation {
  /** Bytes it adds to a commit. */
  bytes: number;
  /** Bytes its key adds to the commit's total key size (default 128). */
  keyBytes?: number;
  /** Adds it to an operation. */
  apply(op: KvAtomic): void;
}

/**
 * Commits mutations in as few atomic operations as Deno KV's limits allow.
 * @param kv The database.
 * @param mutations What to write.
 * @param options `maxBytes`: a smaller size per commit than {@linkcode MAX_BATCH_BYTES} (each
 * commit's values are serialized at once, holding up everything else meanwhile).
 * @throws {Error} When KV refuses a commit.
 */
export async function commitInBatches(
  kv: KvDatabase,
  mutations: Iterable<Mutation>,
  options: { maxBytes?: number } = {},
) {
  const maxBytes = Math.min(options.maxBytes ?? MAX_BATCH_BYTES, MAX_BATCH_BYTES);
  let op = kv.atomic();
  let count = 0;
  let bytes = 0;
  let keyBytes = 0;
  for (const mutation of mutations) {
    const k = mutation.keyBytes ?? SUM_BYTES;
    if (
      count > 0 && (count + 1 > MAX_MUTATIONS || bytes + mutation.bytes > maxBytes ||
        keyBytes + k > MAX_KEY_BYTES)
    ) {
      await commitOrThrow(op);
      op = kv.atomic();
      count = 0;
      bytes = 0;
      keyBytes = 0;
    }
    mutation.apply(op);
    count++;
    bytes += mutation.bytes;
    keyBytes += k;
  }
  if (count > 0) await commitOrThrow(op);
}

/**
 * An upper bound of a key's encoded size in bytes (a string part is its UTF-8 bytes and two
 * more, a number nine bytes).
 * @param key A key.
 */
export function keySize(key: KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part !== "string") {
      n += 10;
      continue;
    }
    n += 2;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    }
  }
  return n;
}

async function commitOrThrow(op: KvAtomic): Promise<void> {
  if (!(await op.commit()).ok) throw new Error("Deno KV refused a batch");
}

/** Counter increments added up per key, so a batch sums each counter once. */
export class Sums {
  #entries = new Map<string, { key: KvKey; value: bigint }>();

  /**
   * Adds to a counter; nothing for zero or less.
   * @param key The counter's key.
   * @param value The amount (rounded).
   */
  add(key: KvKey, value: number): void {
    if (value <= 0) return;
    const id = JSON.stringify(key);
    const entry = this.#entries.get(id);
    if (entry) entry.value += BigInt(Math.round(value));
    else this.#entries.set(id, { key, value: BigInt(Math.round(value)) });
  }

  /** The sums as mutations. */
  mutations(): Mutation[] {
    return [...this.#entries.values()].map(({ key, value }) => ({
      bytes: SUM_BYTES,
      apply: (op) => void op.sum(key, value),
    }));
  }
}

/**
 * Creates a pruner: at most once a minute, it deletes up to 500 entries from each range it is
 * given (the windows and buckets past their retention).
 * @param kv The database.
 * @param now Clock (epoch ms).
 * @returns A function that prunes when a minute has passed since it last did.
 */
export function createPruner(
  kv: KvDatabase,
  now: () => number,
): (ranges: (at: number) => KvListSelector[]) => Promise<void> {
  let prunedAt = -Infinity;
  return async function prune(ranges) {
    const at = now();
    if (at - prunedAt < PRUNE_INTERVAL_MS) return;
    prunedAt = at;
    for (const selector of ranges(at)) {
      const op = kv.atomic();
      let n = 0;
      for await (const entry of kv.list(selector, { limit: PRUNE_LIMIT })) {
        op.delete(entry.key);
        n++;
      }
      if (n > 0) await op.commit();
    }
  };
}

/**
 * Reads an async iterable into an array (`Array.fromAsync` is missing from Node.js 20).
 * @param items The iterable.
 */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
