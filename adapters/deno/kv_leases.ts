/**
 * Limit lease counters on Deno KV: `["lease", window, counter]` holds a counter's total for one
 * window, expiring a while after the window ends.
 *
 * A call reads the counters it names, applies the shared rule (`core/limits/lease_rules.ts`) and
 * commits the new totals with `check()` on every entry it read, retrying when another process
 * got there first: no grant ever passes a cap. Within a process, calls touching the same counter
 * run one after another, so they never collide with each other.
 * @module
 */
import { applyLease } from "../../core/limits/lease_rules.ts";
import type { LeaseGrant, LeaseRequest, Store } from "../../core/store/store.ts";
import { backoff, retryLocked } from "./kv_token_counters.ts";
import type { KvDatabase } from "./kv_database.ts";

/** Deno KV reads at most this many keys at once; bigger calls go in atomic slices. */
const MAX_KEYS = 10;

/**
 * Creates the counters on an open Deno KV handle.
 * @param kv The database (shared with the rest of the store; Deno KV or `@deno/kv` on Node.js).
 * @param now Clock (epoch ms), for entry expiry.
 * @returns The store's `takeLeases`.
 */
export function createKvLeases(kv: KvDatabase, now: () => number): Pick<Store, "takeLeases"> {
  /** The last call queued per counter entry in this process. */
  const tails = new Map<string, Promise<void>>();

  /** Runs `fn` after every earlier call in this process that touches one of `ids`. */
  function inLane<T>(ids: string[], fn: () => Promise<T>): Promise<T> {
    const before = ids.map((id) => tails.get(id)).filter((p) => p !== undefined);
    const run = Promise.all(before).then(fn);
    const done = run.then(() => {}, () => {});
    for (const id of ids) tails.set(id, done);
    void done.then(() => {
      for (const id of ids) if (tails.get(id) === done) tails.delete(id);
    });
    return run;
  }

  async function commitSlice(requests: LeaseRequest[]): Promise<LeaseGrant[]> {
    const ids = [...new Set(requests.map(entryId))];
    const keys = ids.map((id) => JSON.parse(id) as Deno.KvKey);
    for (let attempt = 0;; attempt++) {
      const entries = await retryLocked(() => kv.getMany<number[]>(keys));
      const used = new Map(ids.map((id, i) => [id, entries[i]?.value ?? 0]));
      const until = new Map<string, number>();
      const grants = requests.map((request) => {
        const id = entryId(request);
        const grant = applyLease(used.get(id)!, request);
        used.set(id, grant.used);
        until.set(id, Math.max(until.get(id) ?? 0, request.expiresAt));
        return grant;
      });
      const op = kv.atomic();
      ids.forEach((id, i) => {
        op.check(entries[i]!).set(keys[i]!, used.get(id)!, {
          expireIn: Math.max(1000, until.get(id)! - now()),
        });
      });
      if ((await retryLocked(() => op.commit())).ok) return grants;
      await backoff(attempt);
    }
  }

  return {
    async takeLeases(requests) {
      const grants: LeaseGrant[] = [];
      for (const slice of slices(requests)) {
        const ids = [...new Set(slice.map(entryId))];
        grants.push(...await inLane(ids, () => commitSlice(slice)));
      }
      return grants;
    },
  };
}

function entryId(request: LeaseRequest): string {
  return JSON.stringify(["lease", request.window, request.counter]);
}

/** Consecutive runs of requests naming at most {@linkcode MAX_KEYS} distinct entries each. */
function slices(requests: LeaseRequest[]): LeaseRequest[][] {
  const out: LeaseRequest[][] = [];
  let current: LeaseRequest[] = [];
  let ids = new Set<string>();
  for (const request of requests) {
    const id = entryId(request);
    if (!ids.has(id) && ids.size === MAX_KEYS) {
      out.push(current);
      current = [];
      ids = new Set();
    }
    ids.add(id);
    current.push(request);
  }
  if (current.length > 0) out.push(current);
  return out;
}
