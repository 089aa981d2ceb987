/**
 * The storage contract every backend implements (memory, Deno KV, Supabase/Postgres).
 *
 * The hot path never awaits a store call: the proxy works from an in-memory snapshot that is
 * reloaded when {@linkcode Store.version} changes. Stores hold Gemini keys only encrypted and proxy
 * tokens only hashed.
 * @module
 */
import type { LogRecord } from "./log_record.ts";
import type {
  AggregateBatch,
  AggregateDelta,
  AggregateRow,
  AggregateSpan,
  AuthThrottleEntry,
  AuthThrottleWrite,
  CooldownRecord,
  KeyEnabling,
  KeyRecord,
  KeyStateRecord,
  KeyUsageDelta,
  KeyUsageTotal,
  LeaseGrant,
  LeaseRequest,
  LogFilter,
  LogPage,
  TokenRecord,
  TokenUsage,
  TokenUsageDelta,
} from "./records.ts";

/** Storage backend. Every method may be called concurrently from many requests. */
export interface Store {
  /** Backend name for health output: `memory`, `kv`, `supabase`. */
  readonly kind: string;
  /** All keys, in creation order. */
  listKeys(): Promise<KeyRecord[]>;
  /** Inserts the key unless one with the same id exists. @returns true when inserted. */
  addKey(record: KeyRecord): Promise<boolean>;
  /**
   * Inserts many keys, each unless one with its id exists, in as few commits as the backend
   * allows (bulk imports: thousands of keys without one round trip each); the store's version
   * moves once per commit, not once per key.
   * @returns The ids inserted.
   */
  addKeys(records: readonly KeyRecord[]): Promise<string[]>;
  /** Replaces a stored key. @returns false when no key has that id. */
  updateKey(record: KeyRecord): Promise<boolean>;
  /**
   * Enables or disables a key atomically, leaving its other fields as they are.
   * @returns The updated record, or null when no key has that id.
   */
  setKeyEnabled(id: string, enabled: boolean, detail?: KeyEnabling): Promise<KeyRecord | null>;
  /** Deletes a key. @returns true when it existed. */
  deleteKey(id: string): Promise<boolean>;
  /** All tokens, in creation order, with `lastUsedAt` from the token counters. */
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
  /**
   * Stores log records and adds aggregate counters, atomically per batch where the backend can.
   * @param logs Records to keep for `retentionMs`.
   * @param deltas Counter increments (already coalesced).
   * @param retentionMs How long records are kept.
   */
  insertLogs(logs: LogRecord[], deltas: AggregateDelta[], retentionMs: number): Promise<void>;
  /**
   * Adds a batch of aggregate counters, each exactly once across retries of the same batch id
   * and across processes (increments, never read-modify-write).
   */
  addAggregates(batch: AggregateBatch): Promise<void>;
  /** Logs matching a filter, newest first. */
  listLogs(filter: LogFilter, limit: number, cursor?: string | null): Promise<LogPage>;
  /** One log record, or null. */
  getLog(id: string): Promise<LogRecord | null>;
  /**
   * Aggregate rows of a granularity with `from <= bucket < to`. With `rollupOnly`, only the
   * roll-up rows (key and token `*`) are needed; a backend may still return others.
   */
  readAggregates(granularity: "m" | "h" | "d", span: AggregateSpan): Promise<AggregateRow[]>;
  /** Adds to a named process-independent counter (e.g. dropped logs). */
  addCounter(name: string, value: number): Promise<void>;
  /** Reads a named counter. */
  readCounter(name: string): Promise<number>;
  // Token usage: counters per proxy token in clock-minute, Pacific-day and Pacific-month windows,
  // for display. None of these change `version()`: counting never makes processes reload.
  /**
   * Adds requests, tokens and spending to tokens' counters (a delta with requests also advances
   * `lastUsedAt` to its `at` when later).
   */
  addTokenUsage(deltas: TokenUsageDelta[]): Promise<void>;
  /** A token's counters for the windows containing `at` (zeros when it has none). */
  readTokenUsage(tokenId: string, at: number): Promise<TokenUsage>;
  /**
   * Settles and leases capacity of limit counters, each atomically: adds `settle` to the
   * counter (never below 0), then grants `min(want, cap - used)` units (none once the counter is
   * at its cap) and adds them. Concurrent calls from any number of processes never grant past a
   * cap. Requests for one counter and window apply in order. Never changes `version()`.
   * @param requests Counter windows to settle and lease.
   * @returns One grant per request, in order.
   */
  takeLeases(requests: LeaseRequest[]): Promise<LeaseGrant[]>;
  /** Settings saved from the admin console (a flat JSON object); `{}` when none. */
  getSettings(): Promise<Record<string, unknown>>;
  /** Replaces the saved settings; bumps {@linkcode Store.version} so every process reloads. */
  putSettings(settings: Record<string, unknown>): Promise<void>;
  /** Records which key owns a resource (file, upload session, cache, batch) for `ttlMs`. */
  putAffinity(resource: string, keyId: string, ttlMs: number): Promise<void>;
  /** The key id owning a resource, or null when unknown or expired. */
  getAffinity(resource: string): Promise<string | null>;
  /**
   * The sign-in throttle's scopes (those with no state come back with null state and version).
   * Never on the hot path: only admin and metrics authentication read it.
   */
  readAuthThrottle(scopes: string[]): Promise<AuthThrottleEntry[]>;
  /**
   * Writes scopes of the sign-in throttle atomically, across processes, if every version still
   * matches what was read. @returns false, writing nothing, when one changed.
   */
  writeAuthThrottle(writes: AuthThrottleWrite[]): Promise<boolean>;
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
  /** Releases the backend. */
  close(): Promise<void>;
}

/** The store's methods on request logs and their counters: one module of each backend. */
export type LogStore = Pick<
  Store,
  | "insertLogs"
  | "addAggregates"
  | "listLogs"
  | "getLog"
  | "readAggregates"
  | "addCounter"
  | "readCounter"
>;
