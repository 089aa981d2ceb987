/**
 * The sign-in throttle's compare-and-set storage held in process memory: the memory store's
 * backend, and the throttle's own fallback while the shared store is unreachable.
 * @module
 */
import type { AuthThrottleEntry, AuthThrottleState } from "./records.ts";
import type { Store } from "./store.ts";

/** The two throttle methods of a {@linkcode Store}. */
export type AuthThrottleStorage = Pick<Store, "readAuthThrottle" | "writeAuthThrottle">;

/** Options of {@linkcode createMemoryAuthThrottle}. */
export interface MemoryAuthThrottleOptions {
  /** Clock (epoch ms) for expiry. */
  now: () => number;
  /** Most scopes kept; past it the expired go first, then the least recently written. */
  maxScopes?: number;
}

interface Slot {
  state: AuthThrottleState;
  version: string;
  expiresAt: number;
}

/**
 * Creates in-memory throttle storage, bounded in size whatever the scopes written.
 * @param options Clock and bound (default 10,000 scopes).
 * @returns `readAuthThrottle` and `writeAuthThrottle`.
 */
export function createMemoryAuthThrottle(options: MemoryAuthThrottleOptions): AuthThrottleStorage {
  const maxScopes = options.maxScopes ?? 10_000;
  const slots = new Map<string, Slot>();
  let version = 0;

  function live(scope: string): Slot | undefined {
    const slot = slots.get(scope);
    if (slot && slot.expiresAt <= options.now()) {
      slots.delete(scope);
      return undefined;
    }
    return slot;
  }
  function bound(): void {
    if (slots.size <= maxScopes) return;
    const t = options.now();
    for (const [scope, slot] of slots) if (slot.expiresAt <= t) slots.delete(scope);
    // Map order is write order: the first entries are the least recently written.
    for (const scope of slots.keys()) {
      if (slots.size <= maxScopes) break;
      slots.delete(scope);
    }
  }

  return {
    readAuthThrottle(scopes) {
      const entries = scopes.map((scope): AuthThrottleEntry => {
        const slot = live(scope);
        return slot
          ? { scope, state: { ...slot.state }, version: slot.version }
          : { scope, state: null, version: null };
      });
      return Promise.resolve(entries);
    },
    writeAuthThrottle(writes) {
      if (writes.some((w) => (live(w.scope)?.version ?? null) !== w.version)) {
        return Promise.resolve(false);
      }
      for (const w of writes) {
        slots.delete(w.scope);
        if (w.state) {
          slots.set(w.scope, {
            state: { ...w.state },
            version: String(++version),
            expiresAt: w.expiresAt,
          });
        }
      }
      bound();
      return Promise.resolve(true);
    },
  };
}
