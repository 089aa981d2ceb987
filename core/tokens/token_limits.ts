/**
 * The windows of proxy-token usage counters, shared by every store backend so they cannot drift:
 * which windows a moment falls in and when a window may be forgotten; and which limits a token
 * sets.
 * @module
 */
import { pacificDay } from "../pacific_time.ts";
import type { TokenLimits } from "../store/store.ts";

/** Window names containing a moment: `m<minute number>`, `d<YYYY-MM-DD>`, `M<YYYY-MM>`. */
export interface TokenWindows {
  /** Clock minute (epoch minutes). */
  minute: string;
  /** Pacific calendar day. */
  day: string;
  /** Pacific calendar month. */
  month: string;
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
