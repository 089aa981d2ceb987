/**
 * The storage contract every backend implements (memory, Deno KV, Supabase/Postgres).
 *
 * The hot path never awaits a store call: the proxy works from an in-memory snapshot that is
 * reloaded when {@linkcode Store.version} changes. Stores hold Gemini keys only encrypted and proxy
 * tokens only hashed.
 * @module
 */
import type { LogRecord } from "../logs/log_record.ts";

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
  /** Model allow-list (glob patterns such as `gemini-2.5-*`); when set, only matching models. */
  models?: string[];
  /** Request and token limits; none set means unlimited. */
  limits?: TokenLimits;
  /** Last time a request was admitted with the token (epoch ms), merged in by `listTokens`. */
  lastUsedAt?: number;
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

// Request logs and aggregates

/** Filters for listing logs. */
export interface LogFilter {
  /** Earliest time (epoch ms), inclusive. */
  from?: number;
  /** Latest time (epoch ms), exclusive. */
  to?: number;
  /** Exact status, or a class such as `4xx`/`5xx`. */
  status?: string;
  /** Error class. */
  errorClass?: string;
  /** Part of the model id (case-insensitive substring: `pro` finds `gemini-2.5-pro`). */
  model?: string;
  /** Part of the request path or the user agent (case-insensitive substring). */
  search?: string;
  /** Key id. */
  keyId?: string;
  /** Token id. */
  tokenId?: string;
  /** Streams only (true) or non-streams only (false). */
  stream?: boolean;
  /** Request id prefix. */
  idPrefix?: string;
}

/** A page of logs, newest first. */
export interface LogPage {
  /** Records. */
  logs: LogRecord[];
  /** Pass back to get the next (older) page; null at the end. */
  cursor: string | null;
}

/** A counter increment for the aggregates: a bucket of a granularity, its dimensions and field. */
export interface AggregateDelta {
  /** `m` minute, `h` hour, `d` day (UTC buckets). */
  granularity: "m" | "h" | "d";
  /** Bucket start (epoch ms). */
  bucket: number;
  /** Key id (`-` when none). */
  keyId: string;
  /** Model (`-` when none). */
  model: string;
  /** Token id (`-` when none). */
  tokenId: string;
  /** Counter name: `requests`, `errors:<class>`, `tokens:<kind>`, `latency:<le>`, `failovers`. */
  field: string;
  /** Amount to add. */
  value: number;
}

/** Summed counters of one bucket and dimension tuple. */
export interface AggregateRow {
  /** Bucket start (epoch ms). */
  bucket: number;
  /** Key id. */
  keyId: string;
  /** Model. */
  model: string;
  /** Token id. */
  tokenId: string;
  /** Counters by field name. */
  fields: Record<string, number>;
}

// Token quotas

/** Optional limits of a proxy token, held across every process sharing the store. */
export interface TokenLimits {
  /** Requests per minute (fixed clock minute). */
  rpm?: number;
  /** Requests per Pacific day (resets at midnight America/Los_Angeles, as Gemini's quotas). */
  rpd?: number;
  /** Tokens (prompt + candidates + thoughts) per Pacific day, reserved per request and settled. */
  tpd?: number;
  /**
   * Spending per Pacific calendar month, µUSD (1 USD = 1,000,000): a billed request is admitted
   * only when its cost estimate fits in what is left, reserved at admission and settled to the
   * real cost when the response ends.
   */
  budgetMicros?: number;
}

/** The limit that refused a request. */
export type TokenLimitName = "rpm" | "rpd" | "tpd" | "budget";

// Limit leases (see `core/limits/`)

/** One counter window's part of a {@linkcode Store.takeLeases} call. */
export interface LeaseRequest {
  /** What is counted, e.g. `t:<tokenId>:rpm` or `k:<scope>:<model>:rpd`. */
  counter: string;
  /** The window, e.g. `m29474880` or `d2026-01-15` (see `core/limits/windows.ts`). */
  window: string;
  /**
   * Units to add before granting, whatever the cap: negative hands back unused capacity,
   * positive records units spent beyond what was held. The counter never goes below 0.
   */
  settle: number;
  /** Units wanted now (0 to only settle). */
  want: number;
  /** The cap: a grant never takes the counter past it. */
  cap: number;
  /** When the counter may be forgotten (epoch ms). */
  expiresAt: number;
}

/** What {@linkcode Store.takeLeases} answers for one request. */
export interface LeaseGrant {
  /** Units granted: `want`, or less (down to 0) when the cap is reached. */
  granted: number;
  /** The counter's total after this request. */
  used: number;
}

/** Requests and tokens to add to a proxy token's counters. */
export interface TokenUsageDelta {
  /** Token id. */
  tokenId: string;
  /** Requests to add. */
  requests: number;
  /** Tokens to add. */
  tokens: number;
  /**
   * µUSD to add to the month's spending; negative to give back part of a reservation (the month
   * is the one containing `at`).
   */
  costMicros?: number;
  /** When they happened (epoch ms), choosing the windows. */
  at: number;
}

/** A proxy token's counters in the windows containing a moment. */
export interface TokenUsage {
  /** Requests in the clock minute. */
  minuteRequests: number;
  /** Requests in the Pacific day. */
  dayRequests: number;
  /** Tokens in the Pacific day. */
  dayTokens: number;
  /** Requests in the Pacific calendar month. */
  monthRequests: number;
  /** Tokens in the Pacific calendar month. */
  monthTokens: number;
  /**
   * µUSD spent in the Pacific calendar month, reservations of requests in flight included (as
   * written by the instances' last syncs).
   */
  monthCostMicros: number;
}

// Admin sign-in throttle

/** What the sign-in throttle keeps for one scope (a client address, or every client). */
export interface AuthThrottleState {
  /** Wrong secrets counted (forgotten after a quiet while). */
  failures: number;
  /** Time of the last wrong secret (epoch ms). */
  failedAt: number;
  /** Checks admitted and not yet settled (a guess in flight). */
  pending: number;
  /** Time of the last admitted check (epoch ms). */
  pendingAt: number;
}

/** One scope as read from the store, with the version a later write must match. */
export interface AuthThrottleEntry {
  /** Scope name, e.g. `admin:ip:203.0.113.7` or `admin:*`. */
  scope: string;
  /** The stored state; null when the scope has none. */
  state: AuthThrottleState | null;
  /** Opaque version, never reused; null when the scope has none. */
  version: string | null;
}

/** A compare-and-set write of one scope. */
export interface AuthThrottleWrite {
  /** Scope name. */
  scope: string;
  /** The version read: the write fails when the stored one differs (null: must be absent). */
  version: string | null;
  /** The new state; null deletes the scope. */
  state: AuthThrottleState | null;
  /** When the store may forget the scope (epoch ms). */
  expiresAt: number;
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
  /** Logs matching a filter, newest first. */
  listLogs(filter: LogFilter, limit: number, cursor?: string | null): Promise<LogPage>;
  /** One log record, or null. */
  getLog(id: string): Promise<LogRecord | null>;
  /**
   * Aggregate rows of a granularity with `from <= bucket < to`. With `rollupOnly`, only the
   * roll-up rows (key and token `*`) are needed; a backend may still return others.
   */
  readAggregates(
    granularity: "m" | "h" | "d",
    from: number,
    to: number,
    options?: { rollupOnly?: boolean },
  ): Promise<AggregateRow[]>;
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
