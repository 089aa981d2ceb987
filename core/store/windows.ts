/**
 * The windows counters are kept in, named the same way by every process and every store backend
 * so they meet on one counter: the clock minute (`m<epoch minute>`), the Pacific day
 * (`d<YYYY-MM-DD>`, which resets at midnight America/Los_Angeles, as Gemini's daily quotas do)
 * and the Pacific month (`M<YYYY-MM>`, for budgets). One retention per kind says when a window's
 * counters may be forgotten, for key usage, token usage and limit leases alike.
 * @module
 */
import { nextPacificMidnight, nextPacificMonthStart, pacificDay } from "../utils/mod.ts";

/** The kinds of window a counter is kept in. */
export type WindowKind = "minute" | "day" | "month";

/** One window: its name in the store and when it ends. */
export interface LimitWindow {
  /** `m<epoch minute>`, `d<YYYY-MM-DD>` or `M<YYYY-MM>`. */
  name: string;
  /** Epoch ms of the window's end (exclusive). */
  end: number;
}

/** The names of the windows containing one moment. */
export interface WindowNames {
  /** Clock minute (epoch minutes). */
  minute: string;
  /** Pacific calendar day. */
  day: string;
  /** Pacific calendar month. */
  month: string;
}

/** How long after its end a limit window's counter is kept (clocks may disagree a bit). */
export const WINDOW_GRACE_MS = 10 * 60_000;

/**
 * How long counters are kept, by the first letter of their window's name: ten minutes, forty
 * days (a month of daily history), about thirteen months.
 */
export const WINDOW_RETENTION_MS = {
  m: 10 * 60_000,
  d: 40 * 24 * 3_600_000,
  M: 400 * 24 * 3_600_000,
} as const;

/**
 * The window of a kind containing a moment.
 * @param kind Minute, Pacific day or Pacific month.
 * @param at Epoch ms.
 * @example
 * ```ts
 * windowAt("minute", Date.parse("2026-01-15T20:00:30Z")); // { name: "m29474880", end: ... }
 * ```
 */
export function windowAt(kind: WindowKind, at: number): LimitWindow {
  if (kind === "minute") {
    const minute = Math.floor(at / 60_000);
    return { name: `m${minute}`, end: (minute + 1) * 60_000 };
  }
  if (kind === "day") return { name: `d${pacificDay(at)}`, end: nextPacificMidnight(at) };
  return { name: `M${pacificDay(at).slice(0, 7)}`, end: nextPacificMonthStart(at) };
}

/**
 * The window right after one.
 * @param kind The windows' kind.
 * @param window A window of that kind.
 */
export function windowAfter(kind: WindowKind, window: LimitWindow): LimitWindow {
  return windowAt(kind, window.end);
}

/**
 * The names of the minute, Pacific day and Pacific month containing a moment.
 * @param at Epoch ms.
 */
export function windowNames(at: number): WindowNames {
  const day = pacificDay(at);
  return { minute: `m${Math.floor(at / 60_000)}`, day: `d${day}`, month: `M${day.slice(0, 7)}` };
}

/**
 * The oldest window name still kept, by kind: windows sorting before it (same first letter)
 * may be deleted. Minute numbers have the same number of digits for centuries, so names sort
 * like the times they stand for.
 * @param at Now (epoch ms).
 */
export function retentionBounds(at: number): { m: string; d: string; M: string } {
  return {
    m: windowNames(at - WINDOW_RETENTION_MS.m).minute,
    d: windowNames(at - WINDOW_RETENTION_MS.d).day,
    M: windowNames(at - WINDOW_RETENTION_MS.M).month,
  };
}

/**
 * Whether a window has passed its retention.
 * @param window A window name from {@linkcode windowNames}.
 * @param at Now (epoch ms).
 */
export function windowExpired(window: string, at: number): boolean {
  const kind = window[0] as "m" | "d" | "M";
  const bound = retentionBounds(at)[kind];
  return bound !== undefined && window < bound;
}
