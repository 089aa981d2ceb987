/**
 * The in-memory snapshot of keys and tokens the hot path reads.
 *
 * Requests never wait on the store: the snapshot is reloaded in the background whenever the
 * store's version changes, checked by a timer the adapter starts ({@linkcode Registry.sync}) and,
 * on platforms without timers, by requests themselves ({@linkcode Registry.touch}).
 * @module
 */
import type { Cipher } from "./secrets.ts";
import type { KeyRecord, Store, TokenRecord } from "./store/store.ts";

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
  /** Minimum gap between version checks triggered by requests, ms (default 1000). */
  touchIntervalMs?: number;
  /** Reports failures of background reloads. */
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
  /** Epoch ms of the last successful version check. */
  readonly checkedAt: number;
  /** Whether the last version check failed. */
  readonly degraded: boolean;
  /** Replaces one key's record in the snapshot at once (the store is updated separately). */
  patchKey(record: KeyRecord): void;
  /** Reloads everything now. */
  reload(): Promise<void>;
  /** Checks the store version and reloads when it changed. Never throws. */
  sync(): Promise<void>;
  /** Starts a background {@linkcode Registry.sync} when the last check is older than the interval. */
  touch(): void;
}

/**
 * Creates the snapshot and loads it once.
 * @param store The backing store.
 * @param options Cipher, clock and refresh interval.
 * @returns The loaded registry.
 */
export async function createRegistry(store: Store, options: RegistryOptions): Promise<Registry> {
  const touchInterval = options.touchIntervalMs ?? 1000;
  const plainBySealed = new Map<string, string>();
  let keys: ActiveKey[] = [];
  let enabledKeys: ActiveKey[] = [];
  let keysById = new Map<string, ActiveKey>();
  let tokens: TokenRecord[] = [];
  let tokensByHash = new Map<string, TokenRecord>();
  let secrets = new Set<string>();
  let version = "";
  let checkedAt = 0;
  let degraded = false;
  let inFlight: Promise<void> | null = null;

  async function load(): Promise<void> {
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
    checkedAt = options.now();
    degraded = false;
  }

  function sync(): Promise<void> {
    if (inFlight) return inFlight;
    inFlight = (async () => {
      try {
        const current = await store.version();
        if (current !== version) await load();
        checkedAt = options.now();
        degraded = false;
      } catch (error) {
        degraded = true;
        options.onError?.(error);
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  }

  await load();
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
      return checkedAt;
    },
    get degraded() {
      return degraded;
    },
    patchKey(record) {
      const current = keysById.get(record.id);
      if (!current) return;
      const next = { ...current, record };
      keys = keys.map((k) => k.id === record.id ? next : k);
      enabledKeys = keys.filter((k) => k.record.enabled);
      keysById.set(record.id, next);
    },
    reload: load,
    sync,
    touch() {
      if (!inFlight && options.now() - checkedAt >= touchInterval) void sync();
    },
  };
}
