/**
 * The storage contract and the memory backend. Every backend (memory here, Deno KV in
 * `core/store/kv/`, Supabase/Postgres in `core/store/supabase/`) implements {@linkcode Store} and
 * passes the one contract suite (`tests/store_contract.ts`), so none can drift.
 *
 * - {@linkcode Store} and the records it keeps (`records.ts`, `log_record.ts`).
 * - Rules every backend shares: {@linkcode windowNames} and {@linkcode retentionBounds} (which
 *   counter window a moment falls in, when a window may be forgotten), {@linkcode applyLease}
 *   (granting limit capacity), {@linkcode matchesLog} (log filters), {@linkcode withEnabled}.
 * - {@linkcode createMemoryStore}: a store in process memory, for tests and deployments that keep
 *   nothing.
 * @module
 */
export type { LogStore, Store } from "./store.ts";
export {
  type AggregateBatch,
  type AggregateDelta,
  type AggregateRow,
  type AggregateRowDelta,
  type AggregateSpan,
  type AuthThrottleEntry,
  type AuthThrottleState,
  type AuthThrottleWrite,
  byCreation,
  type CooldownRecord,
  fieldDeltas,
  type KeyEnabling,
  type KeyRecord,
  type KeyStateRecord,
  type KeyUsageDelta,
  type KeyUsageTotal,
  type LeaseGrant,
  type LeaseRequest,
  type LogFilter,
  type LogPage,
  type TokenLimitName,
  type TokenLimits,
  type TokenRecord,
  type TokenUsage,
  type TokenUsageDelta,
  withEnabled,
} from "./records.ts";
export { type AttemptRecord, type LogRecord, requestId, type RouteKind } from "./log_record.ts";
export { idAt, matchesLog } from "./log_filter.ts";
export { applyLease } from "./lease_rules.ts";
export {
  type LimitWindow,
  retentionBounds,
  WINDOW_GRACE_MS,
  WINDOW_RETENTION_MS,
  windowAfter,
  windowAt,
  windowExpired,
  type WindowKind,
  type WindowNames,
  windowNames,
} from "./windows.ts";
export { createMemoryStore, type MemoryStoreOptions } from "./memory_store.ts";
export {
  type AuthThrottleStorage,
  createMemoryAuthThrottle,
  type MemoryAuthThrottleOptions,
} from "./memory_auth_throttle.ts";
