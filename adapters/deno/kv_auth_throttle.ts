/**
 * The sign-in throttle's compare-and-set storage on Deno KV: `["auththrottle", scope]` holds a
 * scope's state; a write checks every entry's versionstamp in one atomic commit, so processes
 * sharing the database (a local file, or Deno Deploy's KV) see one throttle. Entries expire with
 * KV's `expireIn`, so scopes never pile up.
 * @module
 */
import type { AuthThrottleStorage } from "../../core/store/memory_auth_throttle.ts";
import type { AuthThrottleState } from "../../core/store/store.ts";
import type { KvDatabase } from "./kv_database.ts";

/** Retries of a call SQLite refused because another process held the file (about 0.4 s). */
const LOCKED_RETRIES = 200;
/** What a Deno KV versionstamp looks like. */
const VERSIONSTAMP = /^[0-9a-f]{20}$/;
/** Shortest expiry handed to KV, ms. */
const MIN_EXPIRE_MS = 1000;

/**
 * Creates the storage on an open Deno KV handle.
 * @param kv The database (shared with the rest of the store): `Deno.openKv`'s or `@deno/kv`'s.
 * @param now Clock (epoch ms), to turn expiry times into `expireIn`.
 * @returns `readAuthThrottle` and `writeAuthThrottle`.
 */
export function createKvAuthThrottle(kv: KvDatabase, now: () => number): AuthThrottleStorage {
  const key = (scope: string): Deno.KvKey => ["auththrottle", scope];
  return {
    async readAuthThrottle(scopes) {
      const entries = await retryLocked(() =>
        kv.getMany<AuthThrottleState[]>(scopes.map((scope) => key(scope)))
      );
      return entries.map((entry, i) => ({
        scope: scopes[i]!,
        state: entry.value,
        version: entry.versionstamp,
      }));
    },
    async writeAuthThrottle(writes) {
      // A version KV never issued cannot match (and KV would refuse it as a check).
      if (writes.some((w) => w.version !== null && !VERSIONSTAMP.test(w.version))) return false;
      const op = kv.atomic();
      for (const w of writes) {
        op.check({ key: key(w.scope), versionstamp: w.version });
        if (w.state) {
          op.set(key(w.scope), w.state, {
            expireIn: Math.max(MIN_EXPIRE_MS, Math.ceil(w.expiresAt - now())),
          });
        } else op.delete(key(w.scope));
      }
      return (await retryLocked(() => op.commit())).ok;
    },
  };
}

/**
 * Runs a KV call again while SQLite reports the database locked by another process sharing the
 * file (a local KV file has no busy timeout); other errors are thrown.
 */
async function retryLocked<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= LOCKED_RETRIES || !String(error).includes("database is locked")) throw error;
      const ms = Math.random() * Math.min(4, attempt + 1);
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
}
