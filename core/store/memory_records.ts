/**
 * Keys, tokens, settings, cooldowns and resource pins of the memory store. Every change to keys,
 * tokens or settings bumps one version, as the other backends do.
 * @module
 */
import {
  byCreation,
  type CooldownRecord,
  type KeyRecord,
  type TokenRecord,
  withEnabled,
} from "./records.ts";
import type { Store } from "./store.ts";

/** The store methods on records. */
export type MemoryRecords =
  & Pick<
    Store,
    | "listKeys"
    | "addKey"
    | "addKeys"
    | "updateKey"
    | "setKeyEnabled"
    | "deleteKey"
    | "addToken"
    | "updateToken"
    | "deleteToken"
    | "version"
    | "getSettings"
    | "putSettings"
  >
  & {
    /** Tokens in creation order (the store merges their last use in). */
    tokens(): TokenRecord[];
  };

/**
 * Creates the record methods.
 * @param now Clock (epoch ms), for `setKeyEnabled` without a time.
 */
export function createMemoryRecords(now: () => number): MemoryRecords {
  const keys = new Map<string, KeyRecord>();
  const tokens = new Map<string, TokenRecord>();
  let settings: Record<string, unknown> = {};
  const version = { value: 0 };
  return {
    listKeys: () => Promise.resolve(sorted(keys)),
    addKey: (record) => Promise.resolve(insert(keys, { record, version })),
    addKeys: (records) =>
      Promise.resolve(
        records.filter((record) => insert(keys, { record, version })).map((r) => r.id),
      ),
    updateKey: (record) => Promise.resolve(replace(keys, { record, version })),
    setKeyEnabled(id, enabled, detail = {}) {
      const current = keys.get(id);
      if (!current) return Promise.resolve(null);
      const next = withEnabled(current, { enabled, reason: detail.reason, at: detail.at ?? now() });
      keys.set(id, next);
      version.value++;
      return Promise.resolve(structuredClone(next));
    },
    deleteKey: (id) => Promise.resolve(remove(keys, { id, version })),
    tokens: () => sorted(tokens),
    addToken: (record) => Promise.resolve(insert(tokens, { record, version })),
    updateToken: (record) => Promise.resolve(replace(tokens, { record, version })),
    deleteToken: (id) => Promise.resolve(remove(tokens, { id, version })),
    version: () => Promise.resolve(String(version.value)),
    getSettings: () => Promise.resolve(structuredClone(settings)),
    putSettings(next) {
      settings = structuredClone(next);
      version.value++;
      return Promise.resolve();
    },
  };
}

/** The store methods on cooldowns and resource pins. */
export type MemoryRests = Pick<
  Store,
  "setCooldown" | "listCooldowns" | "cooldownVersion" | "putAffinity" | "getAffinity"
>;

/**
 * Creates the cooldown and resource-pin methods.
 * @param now Clock (epoch ms), for expiry.
 */
export function createMemoryRests(now: () => number): MemoryRests {
  const cooldowns = new Map<string, CooldownRecord>();
  const affinity = new Map<string, { keyId: string; until: number }>();
  let cooldownVersion = 0;
  return {
    setCooldown(cooldown) {
      const id = `${cooldown.scope}\u0000${cooldown.model}`;
      const existing = cooldowns.get(id);
      if (!existing || existing.until < cooldown.until || existing.until <= now()) {
        cooldowns.set(id, { ...cooldown });
        cooldownVersion++;
      }
      return Promise.resolve();
    },
    listCooldowns() {
      const t = now();
      return Promise.resolve(
        [...cooldowns.values()].filter((c) => c.until > t).map((c) => ({ ...c })),
      );
    },
    cooldownVersion: () => Promise.resolve(String(cooldownVersion)),
    putAffinity(resource, keyId, ttlMs) {
      affinity.set(resource, { keyId, until: now() + ttlMs });
      return Promise.resolve();
    },
    getAffinity(resource) {
      const entry = affinity.get(resource);
      if (!entry || entry.until <= now()) return Promise.resolve(null);
      return Promise.resolve(entry.keyId);
    },
  };
}

function insert<T extends { id: string }>(
  map: Map<string, T>,
  change: { record: T; version: { value: number } },
): boolean {
  if (map.has(change.record.id)) return false;
  map.set(change.record.id, structuredClone(change.record));
  change.version.value++;
  return true;
}

function replace<T extends { id: string }>(
  map: Map<string, T>,
  change: { record: T; version: { value: number } },
): boolean {
  if (!map.has(change.record.id)) return false;
  map.set(change.record.id, structuredClone(change.record));
  change.version.value++;
  return true;
}

function remove<T>(map: Map<string, T>, change: { id: string; version: { value: number } }) {
  const existed = map.delete(change.id);
  if (existed) change.version.value++;
  return existed;
}

function sorted<T extends { id: string; createdAt: number }>(map: Map<string, T>): T[] {
  return [...map.values()]
    .sort(byCreation)
    .map((record) => structuredClone(record));
}
