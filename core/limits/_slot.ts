/**
 * One counter window as the lease ledger holds it, and the small rules on it: what a lease
 * request for it says, how much spare to ask for, whether the store said it is exhausted.
 * @module
 */
import type { LeaseRequest } from "../store/store.ts";
import { decayed, type LeaseTuning, spareUnits } from "./block_size.ts";
import { type LimitWindow, WINDOW_GRACE_MS, type WindowKind } from "./windows.ts";

/** A counter's current window in one instance. */
export interface Slot {
  /** The counter, store-wide. */
  readonly counter: string;
  /** Its window kind. */
  readonly kind: WindowKind;
  /** The window. */
  readonly window: LimitWindow;
  /** The cap last asked for. */
  cap: number;
  /** Units leased and not spent. */
  held: number;
  /** Units to add to the store's counter with the next lease (negative: handed back). */
  owed: number;
  /** Units wanted by takes waiting for a lease. */
  waiting: number;
  /** The lease on its way, if any. */
  refill: Promise<void> | null;
  /** When the store last said the counter is at its cap; null otherwise. */
  exhaustedAt: number | null;
  /** The counter's total at the store's last answer. */
  used: number;
  /** Units spent lately (a decaying count, see `decayed`), as of `recentAt`. */
  recent: number;
  /** When `recent` was last updated (epoch ms). */
  recentAt: number;
  /** When units were last spent (epoch ms). */
  lastSpendAt: number;
  /** Units the last spending took. */
  lastWant: number;
  /** The next window's slot, leased ahead of time. */
  next: Slot | null;
}

/**
 * A fresh slot for a counter's window, inheriting the recent rate of the window before.
 * @param start Counter, kind and cap.
 * @param window The window.
 * @param options The slot it follows (if any), the time and the tuning.
 */
export function newSlot(
  start: { counter: string; kind: WindowKind; cap: number },
  window: LimitWindow,
  options: { before: Slot | undefined; at: number; tuning: LeaseTuning },
): Slot {
  const { before, at, tuning } = options;
  return {
    counter: start.counter,
    kind: start.kind,
    window,
    cap: start.cap,
    held: 0,
    owed: 0,
    waiting: 0,
    refill: null,
    exhaustedAt: null,
    used: 0,
    recent: before ? decayed(before.recent, at - before.recentAt, 0, tuning.rateWindowMs) : 0,
    recentAt: at,
    lastSpendAt: before?.lastSpendAt ?? at,
    lastWant: before?.lastWant ?? 0,
    next: null,
  };
}

/**
 * The store request settling and leasing a slot.
 * @param slot The slot.
 * @param settle Units to add first (negative: handed back).
 * @param want Units wanted.
 */
export function leaseRequest(slot: Slot, settle: number, want: number): LeaseRequest {
  return {
    counter: slot.counter,
    window: slot.window.name,
    settle,
    want,
    cap: slot.cap,
    expiresAt: slot.window.end + WINDOW_GRACE_MS,
  };
}

/**
 * Spare units to lease for a slot now (see `spareUnits`).
 * @param slot The slot.
 * @param at Now (epoch ms).
 * @param rttMs The store's recent round trip.
 * @param tuning Ledger tuning.
 */
export function spareOf(slot: Slot, at: number, rttMs: number, tuning: LeaseTuning): number {
  const recent = decayed(slot.recent, at - slot.recentAt, 0, tuning.rateWindowMs);
  return spareUnits({ recent, rttMs, cap: slot.cap, used: slot.used }, tuning);
}

/**
 * Whether the store said lately that the slot's counter is at its cap.
 * @param slot The slot.
 * @param at Now (epoch ms).
 * @param tuning Ledger tuning (`recheckMs`: how long the answer is believed).
 */
export function exhausted(slot: Slot, at: number, tuning: LeaseTuning): boolean {
  return slot.exhaustedAt !== null && at - slot.exhaustedAt < tuning.recheckMs;
}

/**
 * Records units spent from a slot (its rate and last use).
 * @param slot The slot.
 * @param units Units spent.
 * @param at Now (epoch ms).
 * @param tuning Ledger tuning.
 */
export function noteSpent(slot: Slot, units: number, at: number, tuning: LeaseTuning): void {
  slot.recent = decayed(slot.recent, at - slot.recentAt, units, tuning.rateWindowMs);
  slot.recentAt = at;
  slot.lastSpendAt = at;
  slot.lastWant = units;
}
