/**
 * Background work on a platform without timers between requests: every request hands the
 * runtime (`ctx.waitUntil`) a promise that settles once its log record is queued and a store
 * sync that started after that has finished. Syncs are coalesced: at most one runs and one waits,
 * started at least `spacingMs` apart, so under load many requests share one sync.
 * @module
 */
import type { GatewayApp } from "../app.ts";

/** Options of {@linkcode createBackground}. */
export interface BackgroundOptions {
  /** Least time between the starts of two syncs, ms (default 250, the Deno entry's timer). */
  spacingMs?: number;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Waits (default `setTimeout`, allowed while a request or its `waitUntil` is alive). */
  sleep?: (ms: number) => Promise<void>;
}

/** The scheduler. */
export interface Background {
  /**
   * Settles once the request's log record (by `x-request-id`) is queued and a sync that started
   * after it has finished; without an id, once a sync has run. Never rejects.
   */
  settle(requestId: string | null): Promise<void>;
}

/** Most ids remembered for records that finished before anyone waited for them. */
const REMEMBERED = 1000;

/**
 * Creates the scheduler for one app.
 * @param app The app whose `sync()` writes logs, counters and rotation state.
 * @param options Spacing, clock and sleep.
 */
export function createBackground(app: GatewayApp, options: BackgroundOptions = {}): Background {
  const spacing = options.spacingMs ?? 250;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const waiting = new Map<string, () => void>();
  const finished = new Set<string>();
  let lastStart = -Infinity;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  app.logs.subscribe((record) => {
    const resolve = waiting.get(record.id);
    if (resolve) {
      waiting.delete(record.id);
      resolve();
      return;
    }
    finished.add(record.id);
    if (finished.size > REMEMBERED) finished.delete(finished.values().next().value!);
  });

  function recordQueued(id: string): Promise<void> {
    if (finished.delete(id)) return Promise.resolve();
    return new Promise((resolve) => waiting.set(id, resolve));
  }

  function nextSync(): Promise<void> {
    queued ??= (async () => {
      // Always await (even null): `queued` must be assigned before it is cleared below.
      await running;
      const wait = lastStart + spacing - now();
      if (wait > 0) await sleep(wait);
      queued = null;
      lastStart = now();
      running = (async () => {
        await app.sync();
        await app.poolSync.settled();
      })().catch(() => {}).finally(() => running = null);
      await running;
    })();
    return queued;
  }

  return {
    async settle(requestId) {
      if (requestId) await recordQueued(requestId);
      await nextSync();
    },
  };
}
