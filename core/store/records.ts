/**
 * The records every store backend keeps: keys (sealed), tokens (hashed), cooldowns, counters,
 * log aggregates, limit leases and sign-in throttle state.
 * @module
 */
import type { LogRecord } from "./log_record.ts";

/** A Gemini API key as stored: the value is sealed with the app's cipher, never clear. */
export interface KeyRecord {
  /** Stable id derived from the key's hash; also the de-duplication key. */
  id: string;
  /** The key encrypted with AES-GCM (see `core/secrets/secrets.ts`). */
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

/** Why and when a key is disabled (`Store.setKeyEnabled`). */
export interface KeyEnabling {
  /** Why, when disabling (default "disabled"). */
  reason?: string | undefined;
  /** When (epoch ms; default: the store's clock). */
  at?: number | undefined;
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

/** The increments of one aggregate row: a bucket of a granularity, its dimensions, its fields. */
export interface AggregateRowDelta {
  /** `m` minute, `h` hour, `d` day (UTC buckets). */
  granularity: "m" | "h" | "d";
  /** Bucket start (epoch ms). */
  bucket: number;
  /** Key id (`-` when none; `*` in a model's roll-up row). */
  keyId: string;
  /** Model (`-` when none). */
  model: string;
  /** Token id (`-` when none; `*` in a model's roll-up row). */
  tokenId: string;
  /** Amounts to add, by counter name (see {@linkcode AggregateDelta}). */
  fields: Record<string, number>;
}

/**
 * Aggregate increments written as one unit, at most once: a retry with the same id after a
 * failure (even one that left part of it written) adds nothing twice.
 */
export interface AggregateBatch {
  /** Unique per batch, and the same on every retry of it. */
  id: string;
  /**
   * Increments by row (each row once: already coalesced), in the same order on every retry. A
   * row of a second of traffic keeps its fields together, so a backend that keeps rows whole
   * (Deno KV's packed rows) adds them without splitting them into one increment per counter.
   */
  rows: AggregateRowDelta[];
}

/**
 * The increments of rows, one per counter, in the rows' order.
 * @param rows Increments by row.
 */
export function fieldDeltas(rows: readonly AggregateRowDelta[]): AggregateDelta[] {
  const out: AggregateDelta[] = [];
  for (const { granularity, bucket, keyId, model, tokenId, fields } of rows) {
    for (const field in fields) {
      out.push({ granularity, bucket, keyId, model, tokenId, field, value: fields[field]! });
    }
  }
  return out;
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

/** The buckets `Store.readAggregates` reads: `from <= bucket < to`. */
export interface AggregateSpan {
  /** First bucket (epoch ms), inclusive. */
  from: number;
  /** End (epoch ms), exclusive. */
  to: number;
  /** Only the roll-up rows (key and token `*`) are needed; a backend may still return others. */
  rollupOnly?: boolean;
}

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
  /** The window, e.g. `m29474880` or `d2026-01-15` (see `core/store/windows.ts`). */
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

/**
 * The stores' order of keys and tokens: creation time, then id by code unit (no locale: ids are
 * ASCII, and a locale comparison would load the runtime's collation data for nothing).
 * @param a A record.
 * @param b Another.
 * @returns Negative when `a` comes first.
 */
export function byCreation(
  a: { createdAt: number; id: string },
  b: { createdAt: number; id: string },
): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * A key record with its enabled flag set: disabling notes the reason and time, enabling drops
 * them. Every backend's `setKeyEnabled` and the rotation's background writer build records so.
 * @param record The stored record.
 * @param change Enabled or not, why (default "disabled") and when (epoch ms).
 * @returns The new record.
 */
export function withEnabled(
  record: KeyRecord,
  change: { enabled: boolean; reason?: string | undefined; at: number },
): KeyRecord {
  const { disabledReason: _r, disabledAt: _a, ...rest } = record;
  return change.enabled ? { ...rest, enabled: true } : {
    ...rest,
    enabled: false,
    disabledReason: change.reason ?? "disabled",
    disabledAt: change.at,
  };
}
