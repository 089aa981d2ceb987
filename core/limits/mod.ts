/**
 * Limits that hold across every instance sharing a store, with no store round trip per request:
 * proxy tokens' allow-lists, `rpm`, `rpd`, `tpd` and budgets, and keys' proactive caps. Design and
 * guarantees: `docs/limits.md`.
 *
 * - {@linkcode createLeaseLedger}: leases blocks of each limit's capacity per window from the store
 *   (`Store.takeLeases`), spends them in memory, refills in the background, hands leftovers back.
 * - {@linkcode createTokenQuota}: proxy tokens' model allow-lists and limits on the ledger;
 *   admits a request and settles it when it ends.
 * - {@linkcode createKeyCaps}: keys' caps on the ledger.
 * - {@linkcode estimateTokens}: what a request may cost, reserved under `tpd` until it ends.
 * - {@linkcode spareUnits}: how large a block is. The windows every instance names alike and the
 *   rule every store applies to a lease live with the store (`core/store/`).
 * @module
 */
export { DEFAULT_TUNING, type LeaseTuning, spareUnits } from "./block_size.ts";
export { estimateTokens } from "./estimate.ts";
export {
  type CappedKey,
  createKeyCaps,
  type KeyCaps,
  type KeyCapsOptions,
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
  type LeaseLedgerOptions,
  type TakeResult,
} from "./lease_ledger.ts";
export {
  type Admission,
  type AdmitRequest,
  createTokenQuota,
  type SettleOptions,
  type TokenQuota,
  type TokenQuotaOptions,
} from "./token_quota.ts";
export { activeLimits } from "./token_limits.ts";
export { allowsEveryModel, globToRegExp, modelAllowed, PATTERN_SHAPE } from "./glob.ts";
