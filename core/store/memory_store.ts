import type { KeyRecord, Store, TokenRecord } from "./store.ts";

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
  const keys = new Map<string, KeyRecord>();
  const tokens = new Map<string, TokenRecord>();
  const affinity = new Map<string, { keyId: string; until: number }>();
  let version = 0;

  function insert<T extends { id: string }>(map: Map<string, T>, record: T): boolean {
    if (map.has(record.id)) return false;
    map.set(record.id, structuredClone(record));
    version++;
    return true;
  }
  function replace<T extends { id: string }>(map: Map<string, T>, record: T): boolean {
    if (!map.has(record.id)) return false;
    map.set(record.id, structuredClone(record));
    version++;
    return true;
  }
  function remove<T>(map: Map<string, T>, id: string): boolean {
    const existed = map.delete(id);
    if (existed) version++;
    return existed;
  }

  return {
    kind: "memory",
    listKeys: () => Promise.resolve(sorted(keys)),
    addKey: (record) => Promise.resolve(insert(keys, record)),
    updateKey: (record) => Promise.resolve(replace(keys, record)),
    deleteKey: (id) => Promise.resolve(remove(keys, id)),
    listTokens: () => Promise.resolve(sorted(tokens)),
    addToken: (record) => Promise.resolve(insert(tokens, record)),
    updateToken: (record) => Promise.resolve(replace(tokens, record)),
    deleteToken: (id) => Promise.resolve(remove(tokens, id)),
    version: () => Promise.resolve(String(version)),
    putAffinity(resource, keyId, ttlMs) {
      affinity.set(resource, { keyId, until: now() + ttlMs });
      return Promise.resolve();
    },
    getAffinity(resource) {
      const entry = affinity.get(resource);
      if (!entry || entry.until <= now()) return Promise.resolve(null);
      return Promise.resolve(entry.keyId);
    },
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

function sorted<T extends { id: string; createdAt: number }>(map: Map<string, T>): T[] {
  return [...map.values()]
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    .map((record) => structuredClone(record));
}
