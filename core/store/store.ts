/**
 * The storage contract every backend implements (memory, Deno KV, Supabase/Postgres).
 *
 * The hot path never awaits a store call: the proxy works from an in-memory snapshot that is
 * reloaded when {@linkcode Store.version} changes. Stores hold Gemini keys only encrypted and proxy
 * tokens only hashed.
 * @module
 */

/** A Gemini API key as stored: the value is sealed with the app's cipher, never clear. */
export interface KeyRecord {
  /** Stable id derived from the key's hash; also the de-duplication key. */
  id: string;
  /** The key encrypted with AES-GCM (see `core/secrets.ts`). */
  sealed: string;
  /** Masked form for display, e.g. `AIza...x9Qk`. */
  masked: string;
  /** Whether the proxy may use the key. */
  enabled: boolean;
  /** Why the key was disabled, when it was. */
  disabledReason?: string;
  /** When the key was disabled (epoch ms). */
  disabledAt?: number;
  /** Google Cloud project label: keys of one project share quota. */
  project?: string;
  /** Relative weight for weighted selection (default 1). */
  weight?: number;
  /** Proactive per-model caps for this key (its project's when labelled). */
  limits?: Record<string, { rpm?: number; rpd?: number }>;
  /** Where the key came from. */
  source: "env" | "admin";
  /** Creation time (epoch ms). */
  createdAt: number;
}

/** A proxy token as stored: only the hash of the secret is kept. */
export interface TokenRecord {
  /** Stable id (not secret). */
  id: string;
  /** Human name, e.g. the app it was issued to. */
  name: string;
  /** Hex SHA-256 of the secret. */
  hash: string;
  /** Masked secret for display. */
  masked: string;
  /** Whether the token is accepted. */
  enabled: boolean;
  /** Where the token came from. */
  source: "env" | "admin";
  /** Creation time (epoch ms). */
  createdAt: number;
  /** Expiry (epoch ms), when set. */
  expiresAt?: number;
  /** Model allow-list (glob patterns), when set. */
  models?: string[];
}

/** A cooldown as stored: a key (`k:<id>`) or project (`p:<name>`) rests for a model. */
export interface CooldownRecord {
  /** `k:<keyId>` or `p:<project>`. */
  scope: string;
  /** Model id, or `*`. */
  model: string;
  /** Epoch ms when it ends. */
  until: number;
  /** Why. */
  reason: string;
}

/** Requests and tokens to add to a key's counters. */
export interface KeyUsageDelta {
  /** Key id. */
  keyId: string;
  /** Model id, or `*`. */
  model: string;
  /** Requests to add. */
  requests: number;
  /** Tokens to add. */
  tokens: number;
  /** When they happened (epoch ms), choosing the windows. */
  at: number;
}

/** A key's counters in the windows containing a moment. */
export interface KeyUsageTotal {
  /** Key id. */
  keyId: string;
  /** Model id, or `*`. */
  model: string;
  /** Requests in the minute. */
  minute: number;
  /** Requests in the Pacific day. */
  day: number;
  /** Tokens in the minute. */
  minuteTokens: number;
  /** Tokens in the Pacific day. */
  dayTokens: number;
}

/** What happened to a key lately; written in the background, never on the hot path. */
export interface KeyStateRecord {
  /** Key id. */
  keyId: string;
  /** Last time a request went out with it (epoch ms). */
  lastUsedAt?: number;
  /** The last error it got. */
  lastError?: { at: number; status: number; errorClass: string; reason: string };
}

/** Storage backend. Every method may be called concurrently from many requests. */
export interface Store {
  /** Backend name for health output: `memory`, `kv`, `supabase`. */
  readonly kind: string;
  /** All keys, in creation order. */
  listKeys(): Promise<KeyRecord[]>;
  /** Inserts the key unless one with the same id exists. @returns true when inserted. */
  addKey(record: KeyRecord): Promise<boolean>;
  /** Replaces a stored key. @returns false when no key has that id. */
  updateKey(record: KeyRecord): Promise<boolean>;
  /**
   * Enables or disables a key atomically, leaving its other fields as they are.
   * @returns The updated record, or null when no key has that id.
   */
  setKeyEnabled(
    id: string,
    enabled: boolean,
    reason?: string,
    at?: number,
  ): Promise<KeyRecord | null>;
  /** Deletes a key. @returns true when it existed. */
  deleteKey(id: string): Promise<boolean>;
  /** All tokens, in creation order. */
  listTokens(): Promise<TokenRecord[]>;
  /** Inserts the token unless one with the same id exists. @returns true when inserted. */
  addToken(record: TokenRecord): Promise<boolean>;
  /** Replaces a stored token. @returns false when no token has that id. */
  updateToken(record: TokenRecord): Promise<boolean>;
  /** Deletes a token. @returns true when it existed. */
  deleteToken(id: string): Promise<boolean>;
  /**
   * A number that changes whenever keys or tokens change, from any process sharing the store.
   * Cheap enough to poll every few hundred milliseconds.
   */
  version(): Promise<string>;
  /** Stores a cooldown until it ends (a later end wins over an earlier one). */
  setCooldown(cooldown: CooldownRecord): Promise<void>;
  /** Cooldowns that have not ended. */
  listCooldowns(): Promise<CooldownRecord[]>;
  /** Changes whenever a cooldown is set, from any process. */
  cooldownVersion(): Promise<string>;
  /** Adds to keys' request and token counters atomically (minute and Pacific-day windows). */
  addKeyUsage(deltas: KeyUsageDelta[]): Promise<void>;
  /** Every key's counters for the windows containing `at`. */
  readKeyUsage(at: number): Promise<KeyUsageTotal[]>;
  /** Merges last-used and last-error facts into keys' state records. */
  putKeyStates(states: KeyStateRecord[]): Promise<void>;
  /** All keys' state records. */
  listKeyStates(): Promise<KeyStateRecord[]>;
  /** Records which key owns a resource (file, upload session, cache, batch) for `ttlMs`. */
  putAffinity(resource: string, keyId: string, ttlMs: number): Promise<void>;
  /** The key id owning a resource, or null when unknown or expired. */
  getAffinity(resource: string): Promise<string | null>;
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
  /** Releases the backend. */
  close(): Promise<void>;
}
