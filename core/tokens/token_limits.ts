/**
 * The rules of proxy-token limits, shared by every store backend so they cannot drift: which
 * windows a moment falls in, when a charge is refused, and when a window may be forgotten.
 * @module
 */
import { nextPacificMidnight, nextPacificMonthStart, pacificDay } from "../pacific_time.ts";
import type { TokenChargeOptions, TokenChargeResult, TokenLimits } from "../store/store.ts";

/** Window names containing a moment: `m<minute number>`, `d<YYYY-MM-DD>`, `M<YYYY-MM>`. */
export interface TokenWindows {
  /** Clock minute (epoch minutes). */
  minute: string;
  /** Pacific calendar day. */
  day: string;
  /** Pacific calendar month. */
  month: string;
}

/** Counters a charge decision reads. */
export interface ChargeCounts {
  /** Requests already admitted in the minute. */
  minuteRequests: number;
  /** Requests already admitted in the Pacific day. */
  dayRequests: number;
  /** Tokens already charged in the Pacific day. */
  dayTokens: number;
  /** µUSD already spent or reserved in the Pacific month (read only for a budget). */
  monthCostMicros?: number;
}

/** How long counters are kept, by window kind. */
const RETENTION_MS = { m: 10 * 60_000, d: 40 * 24 * 3_600_000, M: 400 * 24 * 3_600_000 };

/**
 * The windows containing a moment.
 * @param at Epoch ms.
 */
export function tokenWindows(at: number): TokenWindows {
  const day = pacificDay(at);
  return { minute: `m${Math.floor(at / 60_000)}`, day: `d${day}`, month: `M${day.slice(0, 7)}` };
}

/**
 * The limits that are actually set, or null when the token is unlimited.
 * @param limits A token's limits.
 */
export function activeLimits(limits: TokenLimits | undefined): TokenLimits | null {
  if (!limits) return null;
  const out: TokenLimits = {};
  if (limits.rpm !== undefined) out.rpm = limits.rpm;
  if (limits.rpd !== undefined) out.rpd = limits.rpd;
  if (limits.tpd !== undefined) out.tpd = limits.tpd;
  if (limits.budgetMicros !== undefined) out.budgetMicros = limits.budgetMicros;
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * Decides a charge from the counters read: the longest wait wins when several limits are hit,
 * so the client's Retry-After is never too short. A budget refuses a billed request (one with a
 * reservation) when the month's spending has reached it or the reservation does not fit in what
 * is left; calls Google does not bill pass.
 * @param counts Counters before this request.
 * @param limits The token's limits.
 * @param at The request's time (epoch ms).
 * @param options The request's reservation.
 * @returns `{ ok: true }` or the refusal with the end of the refusing window.
 */
export function judgeCharge(
  counts: ChargeCounts,
  limits: TokenLimits,
  at: number,
  options: TokenChargeOptions = {},
): TokenChargeResult {
  if (limits.budgetMicros !== undefined && options.reserveMicros !== undefined) {
    const spent = counts.monthCostMicros ?? 0;
    if (spent >= limits.budgetMicros || spent + options.reserveMicros > limits.budgetMicros) {
      return { ok: false, limit: "budget", retryAt: nextPacificMonthStart(at) };
    }
  }
  if (limits.tpd !== undefined && counts.dayTokens >= limits.tpd) {
    return { ok: false, limit: "tpd", retryAt: nextPacificMidnight(at) };
  }
  if (limits.rpd !== undefined && counts.dayRequests >= limits.rpd) {
    return { ok: false, limit: "rpd", retryAt: nextPacificMidnight(at) };
  }
  if (limits.rpm !== undefined && counts.minuteRequests >= limits.rpm) {
    return { ok: false, limit: "rpm", retryAt: (Math.floor(at / 60_000) + 1) * 60_000 };
  }
  return { ok: true };
}

/**
 * The oldest window name still kept, by kind: windows sorting before it (same first letter)
 * may be deleted. Minute numbers have the same number of digits for centuries, so names sort
 * like the times they stand for.
 * @param at Now (epoch ms).
 */
export function retentionBounds(at: number): { m: string; d: string; M: string } {
  return {
    m: tokenWindows(at - RETENTION_MS.m).minute,
    d: tokenWindows(at - RETENTION_MS.d).day,
    M: tokenWindows(at - RETENTION_MS.M).month,
  };
}

/**
 * Whether a window has passed its retention.
 * @param window A window name from {@linkcode tokenWindows}.
 * @param at Now (epoch ms).
 */
export function windowExpired(window: string, at: number): boolean {
  const kind = window[0] as "m" | "d" | "M";
  const bound = retentionBounds(at)[kind];
  return bound !== undefined && window < bound;
}
