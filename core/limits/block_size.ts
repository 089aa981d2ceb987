/**
 * How much capacity an instance leases at once. Far from a cap, a block covers a couple of
 * seconds of the instance's recent spending (or four store round trips, when that is longer), so
 * steady traffic refills in the background and never waits; as the cap nears, blocks shrink to a
 * share of what is left, and to nothing beyond what requests are waiting for: near the cap every
 * unit leased is spent at once, and none sits idle in one instance while another is refused.
 * @module
 */

/** Tuning of the lease ledger; {@linkcode DEFAULT_TUNING} suits every store. */
export interface LeaseTuning {
  /** Time constant of the spending rate, ms: spending older than this fades. */
  rateWindowMs: number;
  /** A spare block takes at most this fraction of what the cap leaves (1/16: 6 %). */
  fairShare: number;
  /** Unspent units go back to the store after this long without spending, ms. */
  idleMs: number;
  /** After the store said a cap is reached, ask it again no sooner than this, ms. */
  recheckMs: number;
  /** Lease the next window's first block this long before the current one ends, ms. */
  aheadMs: number;
}

/** The tuning every adapter uses. */
export const DEFAULT_TUNING: LeaseTuning = {
  rateWindowMs: 2000,
  fairShare: 1 / 16,
  idleMs: 3000,
  recheckMs: 1000,
  aheadMs: 1000,
};

/** What {@linkcode spareUnits} weighs. */
export interface SpareInput {
  /** Units spent lately: a count decaying with `rateWindowMs` (see {@linkcode decayed}). */
  recent: number;
  /** The store's round trip lately, ms (0 before any). */
  rttMs: number;
  /** The cap. */
  cap: number;
  /** The counter's total at the store's last answer (0 before any). */
  used: number;
}

/**
 * Units to lease beyond what waiting requests need: the recent rate over the block's horizon,
 * but never more than a fair share of what the cap leaves, and none near the cap.
 * @param input Recent spending, round trip and the counter's state.
 * @param tuning Ledger tuning.
 * @returns Whole units, 0 or more.
 * @example
 * ```ts
 * spareUnits({ recent: 40, rttMs: 50, cap: 10_000, used: 0 }, DEFAULT_TUNING); // 40
 * spareUnits({ recent: 40, rttMs: 50, cap: 10, used: 0 }, DEFAULT_TUNING); // 0: near the cap
 * ```
 */
export function spareUnits(input: SpareInput, tuning: LeaseTuning = DEFAULT_TUNING): number {
  const share = Math.floor(Math.max(0, input.cap - input.used) * tuning.fairShare);
  if (share < 1) return 0;
  const horizon = Math.max(1, (4 * input.rttMs) / tuning.rateWindowMs);
  return Math.min(share, Math.ceil(input.recent * horizon));
}

/**
 * A count that fades exponentially with a time constant: its value after `elapsedMs`, plus
 * what is added now. For steady spending of r units per second it settles at r times the time
 * constant in seconds: the units spent over about the last time constant.
 * @param value The count at its last update.
 * @param elapsedMs Time since that update.
 * @param added Units added now.
 * @param windowMs The time constant.
 */
export function decayed(value: number, elapsedMs: number, added: number, windowMs: number): number {
  return value * Math.exp(-Math.max(0, elapsedMs) / windowMs) + added;
}
