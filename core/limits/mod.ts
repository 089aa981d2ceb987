/**
 * Limits that hold across every instance sharing a store, with no store round trip per request:
 * proxy tokens' `rpm`, `rpd` and `tpd`, and keys' proactive caps. Design and guarantees:
 * `docs/limits.md`.
 *
 * - {@linkcode createLeaseLedger}: leases blocks of each limit's capacity per window from the store
 *   (`Store.takeLeases`), spends them in memory, refills in the background, hands leftovers back.
 * - {@linkcode createKeyCaps}: keys' caps on the ledger; `core/tokens/token_quota.ts` puts proxy
 *   tokens' limits on it.
 * - {@linkcode estimateTokens}: what a request may cost, reserved under `tpd` until it ends.
 * - {@linkcode windowAt}: the minute and Pacific-day windows every instance names alike.
 * - {@linkcode spareUnits}: how large a block is; {@linkcode applyLease}: the one rule every store
 *   applies.
 * @module
 */
export { applyLease } from "./lease_rules.ts";
export { DEFAULT_TUNING, type LeaseTuning, spareUnits } from "./block_size.ts";
export { estimateTokens } from "./estimate.ts";
export {
  createKeyCaps,
  type KeyCaps,
  type KeyCapsView,
  type KeyLimit,
  keyLimitFor,
  type KeyLimits,
} from "./key_caps.ts";
export {
  createLeaseLedger,
  type Demand,
  type Grant,
  type LeaseLedger,
  type TakeResult,
} from "./lease_ledger.ts";
export { type LimitWindow, windowAfter, windowAt, type WindowKind } from "./windows.ts";
