/**
 * The one retry-on-locked path of the KV store. A local KV file is SQLite without a busy
 * timeout: while another process sharing the file (a second server, `deno task dev` beside a
 * test, the Node.js server on its own file) holds its write lock, a call fails at once with
 * "database is locked". {@linkcode lockRetrying} wraps a handle so that every read and every
 * commit runs again after a short, growing, random wait, a bounded number of times; any other
 * error, and a lock outlasting the budget, is thrown as it came.
 * @module
 */
import type {
  KvAtomic,
  KvDatabase,
  KvEntry,
  KvEntryMaybe,
  KvKey,
  KvListOptions,
  KvListSelector,
} from "./kv_database.ts";

/** Retries of a call SQLite refused because another process held the file. */
export const LOCKED_RETRIES = 400;
/** Longest wait between two tries, ms (the first waits are shorter: 1, 2, 4, 8, 16 ms at most). */
export const LOCKED_MAX_WAIT_MS = 25;
/** Conflicting commits (a failed check) back off up to this many ms, so a crowd does not spin in step. */
const CONFLICT_MAX_WAIT_MS = 4;

/**
 * Whether an error is SQLite reporting the file locked by another process.
 * @param error What a KV call threw.
 */
export function isLocked(error: unknown): boolean {
  return String(error).includes("database is locked");
}

/**
 * Runs a KV call again while the database is locked by another process (about five seconds in
 * all at most); other errors are thrown at once.
 * @param call The KV call.
 * @returns Its result.
 * @throws What the call threw, when it was not a lock or the lock outlasted every retry.
 */
export async function retryLocked<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= LOCKED_RETRIES || !isLocked(error)) throw error;
      await wait(Math.random() * Math.min(LOCKED_MAX_WAIT_MS, 2 ** attempt));
    }
  }
}

/**
 * Waits a random few milliseconds after a commit whose check failed, longer with each attempt.
 * @param attempt Attempts made so far.
 */
export function conflictBackoff(attempt: number): Promise<void> {
  return wait(Math.random() * Math.min(CONFLICT_MAX_WAIT_MS, attempt + 1));
}

/**
 * The handle with every read and write going through {@linkcode retryLocked}: `get`, `getMany`,
 * `set` and the commit of every atomic operation. Listing is left as it is: SQLite's readers do
 * not wait for its writer.
 * @param kv An open handle.
 * @returns A handle with the same methods.
 */
export function lockRetrying(kv: KvDatabase): KvDatabase {
  return {
    get<T>(key: KvKey): Promise<KvEntryMaybe<T>> {
      return retryLocked(() => kv.get<T>(key));
    },
    getMany<T extends readonly unknown[]>(keys: readonly [...{ [K in keyof T]: KvKey }]) {
      return retryLocked(() => kv.getMany<T>(keys));
    },
    set: (key, value, options) => retryLocked(() => kv.set(key, value, options)),
    list<T>(selector: KvListSelector, options?: KvListOptions): AsyncIterable<KvEntry<T>> {
      return kv.list<T>(selector, options);
    },
    atomic: () => retryingAtomic(kv.atomic()),
    close: () => kv.close(),
  };
}

/** An atomic operation whose commit goes through {@linkcode retryLocked}. */
function retryingAtomic(op: KvAtomic): KvAtomic {
  const wrapped: KvAtomic = {
    check(...checks) {
      op.check(...checks);
      return wrapped;
    },
    set(key, value, options) {
      op.set(key, value, options);
      return wrapped;
    },
    sum(key, n) {
      op.sum(key, n);
      return wrapped;
    },
    max(key, n) {
      op.max(key, n);
      return wrapped;
    },
    delete(key) {
      op.delete(key);
      return wrapped;
    },
    commit: () => retryLocked(() => op.commit()),
  };
  return wrapped;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
