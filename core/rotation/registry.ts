/**
 * The in-memory snapshot of keys and tokens the hot path reads.
 *
 * The snapshot is reloaded whenever the store's `data` version moves, as the application's one
 * change tracker sees it (`store_changes.ts`): before a request is authenticated,
 * {@linkcode Registry.ensureFresh} waits for a probe when the last one is older than a second; a
 * snapshot kept fresh costs requests nothing, a stale one costs one version probe shared by every
 * request waiting for it, and an idle instance reads nothing.
 * @module
 */
import { createStoreChanges, type StoreChanges } from "./store_changes.ts";
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
  /**
   * Values of keys known to this process by id (the configured ones, from `importSecrets`):
   * opened without decrypting. Other keys are decrypted once each.
   */
  opened?: ReadonlyMap<string, string>;
  /**
   * The stored keys as the caller has just read them (`importSecrets`), in the store's order:
   * the first load uses them instead of listing the keys again.
   */
  firstKeys?: readonly KeyRecord[];
  /**
   * The application's change tracker, primed before this registry loads; by default the
   * registry makes one of its own (`maxAgeMs` and `probeTimeoutMs` apply only then).
   */
  changes?: StoreChanges;
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
  /**
   * Replaces one key's record in the snapshot at once (the store is updated separately). With
   * the store write's promise, the patch also outlives reloads that may have read the store before
   * that write landed: a retired key is never brought back by a stale read.
   */
  patchKey(record: KeyRecord, written?: Promise<unknown>): void;
  /** Reloads everything now (after this process changed the store: read-your-writes). */
  reload(): Promise<void>;
  /** Checks the store's versions now and reloads what changed (a change signal). Never throws. */
  sync(): Promise<void>;
  /**
   * Makes sure the snapshot holds every change made to the store `maxAgeMs` ago or earlier: when
   * it is that fresh there is nothing to wait for, else one version probe (and a reload only when
   * the version changed) is shared by concurrent callers. Called before a request is
   * authenticated. Never throws: when the store cannot answer, the snapshot serves and `degraded`
   * is set.
   * @param maxAgeMs Oldest acceptable snapshot, ms (default `maxAgeMs` of the options).
   * @returns Undefined when fresh enough (no `await` for a request's common case), else the
   * probe to wait for.
   */
  ensureFresh(maxAgeMs?: number): Promise<void> | undefined;
}

/**
 * Creates the snapshot and loads it once.
 * @param store The backing store.
 * @param options Cipher, clock, freshness bound and probe timeout.
 * @returns The loaded registry.
 */
export async function createRegistry(store: Store, options: RegistryOptions): Promise<Registry> {
  const changes = options.changes ?? createStoreChanges(store, {
    now: options.now,
    ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
    ...(options.probeTimeoutMs !== undefined ? { timeoutMs: options.probeTimeoutMs } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  if (!options.changes) await changes.prime();
  const registry = new StoreRegistry(store, { ...options, changes });
  await registry.reload();
  return registry;
}

/** The registry behind {@linkcode createRegistry}. */
class StoreRegistry implements Registry {
  keys: readonly ActiveKey[] = [];
  enabledKeys: readonly ActiveKey[] = [];
  tokens: readonly TokenRecord[] = [];
  secrets: ReadonlySet<string> = new Set();
  #store: Store;
  #options: RegistryOptions;
  #changes: StoreChanges;
  /** Opened keys by their sealed value: a reload decrypts only new ones. */
  #plainBySealed = new Map<string, string>();
  #keysById = new Map<string, ActiveKey>();
  #tokensByHash = new Map<string, TokenRecord>();
  #firstKeys: readonly KeyRecord[] | undefined;
  /** Loads may overlap (a probe and an admin write): an older one never replaces a newer one. */
  #loadsStarted = 0;
  #loadApplied = 0;
  /**
   * Local patches a reload must not undo: `until` is the last load that may have read the store
   * before the patch's write landed (Infinity while the write is in flight).
   */
  #patches = new Map<string, { record: KeyRecord; until: number }>();

  constructor(store: Store, options: RegistryOptions & { changes: StoreChanges }) {
    this.#store = store;
    this.#options = options;
    this.#changes = options.changes;
    this.#firstKeys = options.firstKeys;
    this.#changes.on("data", () => this.#load());
  }

  get checkedAt(): number {
    return this.#changes.checkedAt;
  }

  get degraded(): boolean {
    return this.#changes.degraded;
  }

  sync(): Promise<void> {
    return this.#changes.check();
  }

  ensureFresh(maxAgeMs?: number): Promise<void> | undefined {
    return this.#changes.ensureFresh(maxAgeMs);
  }

  keyById(id: string): ActiveKey | undefined {
    return this.#keysById.get(id);
  }

  tokenByHash(hash: string): TokenRecord | undefined {
    return this.#tokensByHash.get(hash);
  }

  patchKey(record: KeyRecord, written?: Promise<unknown>): void {
    if (!this.#keysById.has(record.id)) return;
    this.#apply([record]);
    if (!written) return;
    const patch = { record, until: Infinity };
    this.#patches.set(record.id, patch);
    const landed = () => patch.until = this.#loadsStarted;
    written.then(landed, landed);
  }

  /** Puts records into the snapshot in place of the ones with their ids. */
  #apply(records: KeyRecord[]): void {
    for (const record of records) {
      const current = this.#keysById.get(record.id);
      if (!current) continue;
      const next = { ...current, record };
      this.keys = this.keys.map((k) => k.id === record.id ? next : k);
      this.#keysById.set(record.id, next);
    }
    this.enabledKeys = this.keys.filter((k) => k.record.enabled);
  }

  /** After load `generation`: re-applies patches it may predate, forgets those it includes. */
  #keepPatches(generation: number): void {
    const again: KeyRecord[] = [];
    for (const [id, patch] of this.#patches) {
      if (generation <= patch.until) again.push(patch.record);
      else this.#patches.delete(id);
    }
    if (again.length) this.#apply(again);
  }

  async reload(): Promise<void> {
    const startedAt = this.#options.now();
    await this.#load();
    this.#changes.markFresh(startedAt);
  }

  async #load(): Promise<void> {
    const generation = ++this.#loadsStarted;
    const store = this.#store;
    const first = this.#firstKeys;
    this.#firstKeys = undefined;
    const [keyRecords, tokenRecords] = await Promise.all([
      first ?? store.listKeys(),
      store.listTokens(),
    ]);
    const keys = await this.#open(keyRecords);
    if (generation < this.#loadApplied) return;
    this.#loadApplied = generation;
    const sealed = new Set(keys.map((k) => k.record.sealed));
    for (const known of this.#plainBySealed.keys()) {
      if (!sealed.has(known)) this.#plainBySealed.delete(known);
    }
    this.keys = keys;
    this.enabledKeys = keys.filter((k) => k.record.enabled);
    this.#keysById = new Map(keys.map((k) => [k.id, k]));
    this.secrets = new Set(keys.map((k) => k.value));
    this.tokens = tokenRecords;
    this.#tokensByHash = new Map(tokenRecords.map((t) => [t.hash, t]));
    this.#keepPatches(generation);
  }

  /** The records with their keys decrypted; one SECRET_KEY cannot open is reported and left out. */
  async #open(records: readonly KeyRecord[]): Promise<ActiveKey[]> {
    const keys: ActiveKey[] = [];
    for (const record of records) {
      let value = this.#plainBySealed.get(record.sealed) ?? this.#options.opened?.get(record.id);
      if (value === undefined) {
        try {
          value = await this.#options.cipher.decrypt(record.sealed);
        } catch (cause) {
          this.#options.onError?.(
            new Error(`Key ${record.id} cannot be decrypted with SECRET_KEY`, { cause }),
          );
          continue;
        }
        this.#plainBySealed.set(record.sealed, value);
      }
      keys.push({ id: record.id, value, record });
    }
    return keys;
  }
}
