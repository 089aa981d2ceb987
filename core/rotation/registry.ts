/**
 * The in-memory snapshot of keys and tokens the hot path reads.
 *
 * The snapshot is reloaded whenever the store's version changes: checked by a timer the adapter
 * may start ({@linkcode Registry.sync}) and, before a request is authenticated, by
 * {@linkcode Registry.ensureFresh} when the last check is older than a second (see
 * `freshness.ts`). A snapshot kept fresh costs requests nothing; a stale one costs one version
 * probe, shared by every request waiting for it.
 * @module
 */
import { createFreshness } from "./freshness.ts";
import type { Cipher } from "../secrets/mod.ts";
import type { KeyRecord, Store, TokenRecord } from "../store/mod.ts";

/** A key ready for use: the decrypted value lives only in memory. */
export interface ActiveKey {
  /** Stored id. */
  id: string;
  /** The real Gemini key. */
  value: string;
  /** Stored record (sealed value, status, labels). */
  record: KeyRecord;
}

/** Options of {@linkcode createRegistry}. */
export interface RegistryOptions {
  /** Decrypts stored keys. */
  cipher: Cipher;
  /** Clock (epoch ms). */
  now: () => number;
  /** Oldest snapshot a request is served from before it waits for a version probe, ms (1000). */
  maxAgeMs?: number;
  /** A version probe slower than this counts as failed, ms (default 5000). */
  probeTimeoutMs?: number;
  /** Reports failures of reloads and probes. */
  onError?: (error: unknown) => void;
}

/** The snapshot and its refresh controls. */
export interface Registry {
  /** Every key, enabled or not, in store order. */
  readonly keys: readonly ActiveKey[];
  /** Enabled keys, in store order. */
  readonly enabledKeys: readonly ActiveKey[];
  /** Looks a key up by id. */
  keyById(id: string): ActiveKey | undefined;
  /** Looks a token up by the hash of its secret. */
  tokenByHash(hash: string): TokenRecord | undefined;
  /** Tokens, for listing. */
  readonly tokens: readonly TokenRecord[];
  /** Every real key value, for redaction. */
  readonly secrets: ReadonlySet<string>;
  /** Epoch ms before which every change to the store is in the snapshot. */
  readonly checkedAt: number;
  /** Whether the last version check failed. */
  readonly degraded: boolean;
  /** Replaces one key's record in the snapshot at once (the store is updated separately). */
  patchKey(record: KeyRecord): void;
  /** Reloads everything now (after this process changed the store: read-your-writes). */
  reload(): Promise<void>;
  /** Checks the store version and reloads when it changed (timers). Never throws. */
  sync(): Promise<void>;
  /**
   * Resolves once the snapshot holds every change made to the store `maxAgeMs` ago or earlier:
   * at once when it is that fresh, else after one version probe (and a reload only when the
   * version changed) shared with concurrent callers. Called before a request is authenticated.
   * Never throws: when the store cannot answer, the snapshot serves and `degraded` is set.
   * @param maxAgeMs Oldest acceptable snapshot, ms (default `maxAgeMs` of the options).
   */
  ensureFresh(maxAgeMs?: number): Promise<void>;
}

/**
 * Creates the snapshot and loads it once.
 * @param store The backing store.
 * @param options Cipher, clock, freshness bound and probe timeout.
 * @returns The loaded registry.
 */
export async function createRegistry(store: Store, options: RegistryOptions): Promise<Registry> {
  const plainBySealed = new Map<string, string>();
  let keys: ActiveKey[] = [];
  let enabledKeys: ActiveKey[] = [];
  let keysById = new Map<string, ActiveKey>();
  let tokens: TokenRecord[] = [];
  let tokensByHash = new Map<string, TokenRecord>();
  let secrets = new Set<string>();
  let version = "";
  /** Loads may overlap (a probe and an admin write): an older one never replaces a newer one. */
  let loadsStarted = 0;
  let loadApplied = 0;

  async function load(): Promise<void> {
    const generation = ++loadsStarted;
    const nextVersion = await store.version();
    const [keyRecords, tokenRecords] = await Promise.all([store.listKeys(), store.listTokens()]);
    const nextKeys: ActiveKey[] = [];
    const seenSealed = new Set<string>();
    for (const record of keyRecords) {
      let value = plainBySealed.get(record.sealed);
      if (value === undefined) {
        try {
          value = await options.cipher.decrypt(record.sealed);
        } catch (cause) {
          options.onError?.(
            new Error(`Key ${record.id} cannot be decrypted with SECRET_KEY`, { cause }),
          );
          continue;
        }
        plainBySealed.set(record.sealed, value);
      }
      seenSealed.add(record.sealed);
      nextKeys.push({ id: record.id, value, record });
    }
    if (generation < loadApplied) return;
    loadApplied = generation;
    for (const sealed of plainBySealed.keys()) {
      if (!seenSealed.has(sealed)) plainBySealed.delete(sealed);
    }
    keys = nextKeys;
    enabledKeys = nextKeys.filter((k) => k.record.enabled);
    keysById = new Map(nextKeys.map((k) => [k.id, k]));
    secrets = new Set(nextKeys.map((k) => k.value));
    tokens = tokenRecords;
    tokensByHash = new Map(tokenRecords.map((t) => [t.hash, t]));
    version = nextVersion;
  }

  const freshness = createFreshness({
    async probe() {
      if (await store.version() !== version) await load();
    },
    now: options.now,
    ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
    ...(options.probeTimeoutMs !== undefined ? { timeoutMs: options.probeTimeoutMs } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });

  async function reload(): Promise<void> {
    const startedAt = options.now();
    await load();
    freshness.markFresh(startedAt);
  }

  await reload();
  return {
    get keys() {
      return keys;
    },
    get enabledKeys() {
      return enabledKeys;
    },
    keyById: (id) => keysById.get(id),
    tokenByHash: (hash) => tokensByHash.get(hash),
    get tokens() {
      return tokens;
    },
    get secrets() {
      return secrets;
    },
    get checkedAt() {
      return freshness.checkedAt;
    },
    get degraded() {
      return freshness.degraded;
    },
    patchKey(record) {
      const current = keysById.get(record.id);
      if (!current) return;
      const next = { ...current, record };
      keys = keys.map((k) => k.id === record.id ? next : k);
      enabledKeys = keys.filter((k) => k.record.enabled);
      keysById.set(record.id, next);
    },
    reload,
    sync: freshness.check,
    ensureFresh: freshness.ensureFresh,
  };
}
