/**
 * A {@linkcode Store} held in process memory.
 * @module
 */
import { createMemoryAuthThrottle } from "./memory_auth_throttle.ts";
import { createMemoryLeases } from "./memory_leases.ts";
import { createMemoryKeyUsage, createMemoryLogs } from "./memory_logs.ts";
import { createMemoryRecords, createMemoryRests } from "./memory_records.ts";
import { createMemoryTokenCounters } from "./memory_token_counters.ts";
import type { Store } from "./store.ts";

/** Options of {@linkcode createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock for affinity expiry (default `Date.now`). */
  now?: () => number;
}

/**
 * A store held in process memory: for tests and for deployments that keep nothing.
 * @param options Injected clock.
 * @returns A {@linkcode Store} whose data dies with the process.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const { tokens, ...records } = createMemoryRecords(now);
  const tokenCounters = createMemoryTokenCounters(now);
  return {
    kind: "memory",
    ...records,
    listTokens: () => Promise.resolve(tokenCounters.withLastUsed(tokens())),
    ...createMemoryRests(now),
    ...createMemoryKeyUsage(),
    ...createMemoryLogs(now),
    addTokenUsage: tokenCounters.addTokenUsage,
    readTokenUsage: tokenCounters.readTokenUsage,
    ...createMemoryLeases(now),
    ...createMemoryAuthThrottle({ now }),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
