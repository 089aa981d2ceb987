/**
 * Keys, tokens, settings, cooldowns and resource pins on Deno KV. Every change to keys, tokens or
 * settings also bumps `["meta","version"]` in the same atomic commit, and every cooldown
 * `["meta","cooldowns"]`, so other processes notice changes by reading one entry.
 * @module
 */
import {
  byCreation,
  type CooldownRecord,
  type KeyRecord,
  type Store,
  withEnabled,
} from "../mod.ts";
import type { KvDatabase, KvKey } from "./kv_database.ts";

/** Bumped with every change of keys, tokens or settings. */
export const VERSION_KEY: KvKey = ["meta", "version"];
/** Bumped with every cooldown. */
const COOLDOWN_VERSION_KEY: KvKey = ["meta", "cooldowns"];

/** The store methods on records. */
export type KvRecords = Pick<
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
  | "setCooldown"
  | "listCooldowns"
  | "cooldownVersion"
  | "getSettings"
  | "putSettings"
  | "putAffinity"
  | "getAffinity"
>;

/**
 * Creates the record methods on an open handle.
 * @param kv The database (retrying while locked).
 * @param now Clock (epoch ms), for expiry.
 */
export function createKvRecords(kv: KvDatabase, now: () => number): KvRecords {
  return {
    listKeys: () => listRecords<KeyRecord>(kv, "keys"),
    addKey: (record) => insertRecord(kv, ["keys", record.id], record),
    addKeys: (records) => insertKeys(kv, records),
    updateKey: async (record) =>
      (await replaceRecord(kv, ["keys", record.id], () => record)) !== null,
    setKeyEnabled: (id, enabled, detail = {}) =>
      replaceRecord<KeyRecord>(
        kv,
        ["keys", id],
        (current) =>
          withEnabled(current, { enabled, reason: detail.reason, at: detail.at ?? now() }),
      ),
    deleteKey: (id) => removeRecord(kv, ["keys", id]),
    addToken: (record) => insertRecord(kv, ["tokens", record.id], record),
    updateToken: async (record) =>
      (await replaceRecord(kv, ["tokens", record.id], () => record)) !== null,
    deleteToken: (id) => removeRecord(kv, ["tokens", id]),
    version: async () => (await kv.get(VERSION_KEY)).versionstamp ?? "0",
    setCooldown: (cooldown) => setCooldown(kv, { cooldown, now }),
    listCooldowns: () => listCooldowns(kv, now()),
    cooldownVersion: async () => (await kv.get(COOLDOWN_VERSION_KEY)).versionstamp ?? "0",
    getSettings: async () => (await kv.get<Record<string, unknown>>(["settings"])).value ?? {},
    async putSettings(settings) {
      await kv.atomic().set(["settings"], settings).sum(VERSION_KEY, 1n).commit();
    },
    async putAffinity(resource, keyId, ttlMs) {
      await kv.set(["affinity", resource], { keyId, until: now() + ttlMs }, { expireIn: ttlMs });
    },
    async getAffinity(resource) {
      const entry = await kv.get<{ keyId: string; until: number }>(["affinity", resource]);
      return entry.value && entry.value.until > now() ? entry.value.keyId : null;
    },
  };
}

/**
 * Every record under a prefix, in creation order.
 * @param kv The database.
 * @param prefix `keys` or `tokens`.
 */
export async function listRecords<T extends { createdAt: number; id: string }>(
  kv: KvDatabase,
  prefix: string,
): Promise<T[]> {
  const out: T[] = [];
  for await (const entry of kv.list<T>({ prefix: [prefix] })) out.push(entry.value);
  return out.sort(byCreation);
}

async function insertRecord(kv: KvDatabase, key: KvKey, record: unknown): Promise<boolean> {
  const result = await kv.atomic()
    .check({ key, versionstamp: null })
    .set(key, record)
    .sum(VERSION_KEY, 1n)
    .commit();
  return result.ok;
}

/** Keys per checked commit: each costs a check and a set, under KV's 100 checks per commit. */
const KEYS_PER_CHECKED_COMMIT = 100;
/** Keys per commit guarded by the version alone (mutations, key and value bytes well in bounds). */
const KEYS_PER_COMMIT = 500;

/**
 * Inserts keys that are not stored, 500 per commit. The keys stored are listed once; each commit
 * then checks only that the version has not moved since (every key written or deleted moves it),
 * and the next commit checks the versionstamp the last one left. When another process changed
 * the store meanwhile, the rest goes a hundred per commit with a check per key.
 */
async function insertKeys(kv: KvDatabase, records: readonly KeyRecord[]): Promise<string[]> {
  if (records.length === 0) return [];
  let stamp = (await kv.get(VERSION_KEY)).versionstamp;
  const stored = new Set<string>();
  for await (const entry of kv.list({ prefix: ["keys"] })) stored.add(String(entry.key[1]));
  const todo = records.filter((r) => !stored.has(r.id) && (stored.add(r.id), true));
  const added: string[] = [];
  for (let i = 0; i < todo.length; i += KEYS_PER_COMMIT) {
    const batch = todo.slice(i, i + KEYS_PER_COMMIT);
    const op = kv.atomic().check({ key: VERSION_KEY, versionstamp: stamp });
    for (const r of batch) op.set(["keys", r.id], r);
    const result = await op.sum(VERSION_KEY, 1n).commit();
    if (!result.ok || !result.versionstamp) {
      added.push(...await insertChecked(kv, todo.slice(i)));
      break;
    }
    stamp = result.versionstamp;
    for (const r of batch) added.push(r.id);
  }
  return added;
}

/** Inserts keys a hundred per commit, each checked absent; a failed commit goes key by key. */
async function insertChecked(kv: KvDatabase, records: readonly KeyRecord[]): Promise<string[]> {
  const added: string[] = [];
  for (let i = 0; i < records.length; i += KEYS_PER_CHECKED_COMMIT) {
    const batch = records.slice(i, i + KEYS_PER_CHECKED_COMMIT);
    const op = kv.atomic();
    for (const r of batch) op.check({ key: ["keys", r.id], versionstamp: null });
    for (const r of batch) op.set(["keys", r.id], r);
    if ((await op.sum(VERSION_KEY, 1n).commit()).ok) {
      for (const r of batch) added.push(r.id);
      continue;
    }
    for (const r of batch) if (await insertRecord(kv, ["keys", r.id], r)) added.push(r.id);
  }
  return added;
}

/** Replaces a record that exists with what `next` makes of it; null when there is none. */
async function replaceRecord<T>(
  kv: KvDatabase,
  key: KvKey,
  next: (current: T) => T,
): Promise<T | null> {
  for (;;) {
    const current = await kv.get<T>(key);
    if (current.versionstamp === null) return null;
    const value = next(current.value);
    const result = await kv.atomic().check(current).set(key, value).sum(VERSION_KEY, 1n).commit();
    if (result.ok) return value;
  }
}

async function removeRecord(kv: KvDatabase, key: KvKey): Promise<boolean> {
  for (;;) {
    const current = await kv.get(key);
    if (current.versionstamp === null) return false;
    const result = await kv.atomic().check(current).delete(key).sum(VERSION_KEY, 1n).commit();
    if (result.ok) return true;
  }
}

/** Keeps the later of a stored cooldown and a new one. */
async function setCooldown(
  kv: KvDatabase,
  { cooldown, now }: { cooldown: CooldownRecord; now: () => number },
): Promise<void> {
  const key = ["cooldowns", cooldown.scope, cooldown.model];
  const ttl = Math.max(1000, cooldown.until - now());
  for (;;) {
    const current = await kv.get<CooldownRecord>(key);
    if (current.value && current.value.until >= cooldown.until && current.value.until > now()) {
      return;
    }
    const result = await kv.atomic().check(current)
      .set(key, cooldown, { expireIn: ttl })
      .sum(COOLDOWN_VERSION_KEY, 1n)
      .commit();
    if (result.ok) return;
  }
}

async function listCooldowns(kv: KvDatabase, at: number): Promise<CooldownRecord[]> {
  const out: CooldownRecord[] = [];
  for await (const entry of kv.list<CooldownRecord>({ prefix: ["cooldowns"] })) {
    if (entry.value.until > at) out.push(entry.value);
  }
  return out;
}
