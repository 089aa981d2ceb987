/**
 * Imports the keys and tokens given in the environment into the store, idempotently.
 * @module
 */
import { type Cipher, maskSecret, sha256Hex } from "./secrets.ts";
import { byCreation, type KeyRecord, type Store } from "../store/mod.ts";

/** What {@linkcode importSecrets} did. */
export interface ImportResult {
  /** Keys newly added. */
  keysAdded: number;
  /** Tokens newly added. */
  tokensAdded: number;
  /**
   * Every configured key's value by its stored id: the snapshot opens these without decrypting
   * (an id is the hash of its value, so the value it names is known).
   */
  opened: Map<string, string>;
  /**
   * Every stored key after the import, in the store's order (creation time, then id), when this
   * import read them and added all it meant to: the snapshot's first load needs no listing then.
   */
  keys?: KeyRecord[];
}

/** Options of {@linkcode importSecrets}. */
export interface ImportOptions {
  /** Gemini keys to add. */
  keys: readonly string[];
  /** Proxy tokens to add (stored hashed, with no limits). */
  tokens: readonly string[];
  /** Encrypts keys before they are stored. */
  cipher: Cipher;
  /** Clock (epoch ms). */
  now: () => number;
}

/**
 * The stored id of a Gemini key: a prefix of its SHA-256, so the same key is never stored twice.
 * @param key The key value.
 */
export async function keyId(key: string): Promise<string> {
  return "k_" + (await sha256Hex(`key:${key}`)).slice(0, 16);
}

/**
 * Adds keys and tokens that are not stored yet; existing ones are left as they are (a key an
 * admin disabled stays disabled across restarts). Keys already stored cost no write and no
 * encryption; new ones are sealed and committed in bulk (`Store.addKeys`), so a restart with
 * thousands of configured keys makes one listing and no commit.
 * @param store Target store.
 * @param options Secrets, cipher and clock.
 */
export async function importSecrets(store: Store, options: ImportOptions): Promise<ImportResult> {
  const started = options.now();
  const listed = options.keys.length > 0 ? await store.listKeys() : null;
  const stored = new Set(listed?.map((k) => k.id));
  const ids = await inSlices(options.keys, keyId);
  const opened = new Map<string, string>();
  const todo: { id: string; key: string; index: number }[] = [];
  for (const [index, key] of options.keys.entries()) {
    const id = ids[index]!;
    if (opened.has(id)) continue;
    opened.set(id, key);
    if (!stored.has(id)) todo.push({ id, key, index });
  }
  const fresh = await inSlices(todo, async ({ id, key, index }): Promise<KeyRecord> => ({
    id,
    sealed: await options.cipher.encrypt(key),
    masked: maskSecret(key),
    enabled: true,
    source: "env",
    // Offsets keep the configured order, which round robin follows.
    createdAt: started + index,
  }));
  const keysAdded = fresh.length > 0 ? (await store.addKeys(fresh)).length : 0;
  // Another process may have stored some of the same keys meanwhile: then the snapshot lists.
  const keys = listed && keysAdded === fresh.length
    ? inStoreOrder([...listed, ...fresh])
    : undefined;
  let tokensAdded = 0;
  for (const [index, token] of options.tokens.entries()) {
    const hash = await sha256Hex(token);
    const added = await store.addToken({
      id: "t_" + hash.slice(0, 12),
      name: `env token ${index + 1}`,
      hash,
      masked: maskSecret(token),
      enabled: true,
      source: "env",
      createdAt: options.now(),
    });
    if (added) tokensAdded++;
  }
  return { keysAdded, tokensAdded, opened, ...(keys ? { keys } : {}) };
}

/** Keys as every store lists them: by creation time, then id. */
function inStoreOrder(keys: KeyRecord[]): KeyRecord[] {
  return keys.sort(byCreation);
}

/** Web Crypto calls in flight at once: much faster than one by one, without flooding. */
const CRYPTO_SLICE = 64;

/** Maps items through an async function, `CRYPTO_SLICE` at a time, keeping their order. */
async function inSlices<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CRYPTO_SLICE) {
    out.push(...await Promise.all(items.slice(i, i + CRYPTO_SLICE).map(fn)));
  }
  return out;
}

/**
 * Re-seals keys stored under a previous `SECRET_KEY` with the current one (secret rotation).
 * Keys already readable with the current secret are left alone.
 * @param store The store.
 * @param current Cipher of the new secret.
 * @param previous Cipher of the old secret.
 * @returns How many keys were re-sealed, and how many neither secret can open.
 */
export async function resealKeys(
  store: Store,
  current: Cipher,
  previous: Cipher,
): Promise<{ resealed: number; unreadable: number }> {
  let resealed = 0;
  let unreadable = 0;
  for (const record of await store.listKeys()) {
    try {
      await current.decrypt(record.sealed);
      continue;
    } catch {
      // Not sealed with the current secret: try the previous one.
    }
    try {
      const plain = await previous.decrypt(record.sealed);
      if (await store.updateKey({ ...record, sealed: await current.encrypt(plain) })) resealed++;
    } catch {
      unreadable++;
    }
  }
  return { resealed, unreadable };
}
