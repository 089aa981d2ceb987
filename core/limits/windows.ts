/**
 * The windows limits count in, named the same way by every process so they meet on one counter
 * in the store: the clock minute (`m<epoch minute>`), the Pacific day (`d<YYYY-MM-DD>`, which
 * resets at midnight America/Los_Angeles, as Gemini's daily quotas do) and the Pacific month
 * (`M<YYYY-MM>`, for budgets).
 * @module
 */
import { nextPacificMidnight, nextPacificMonthStart, pacificDay } from "../pacific_time.ts";

/** The kinds of window a limit counts in. */
export type WindowKind = "minute" | "day" | "month";

/** One window: its name in the store and when it ends. */
export interface LimitWindow {
  /** `m<epoch minute>`, `d<YYYY-MM-DD>` or `M<YYYY-MM>`. */
  name: string;
  /** Epoch ms of the window's end (exclusive). */
  end: number;
}

/** How long after its end a window's counter is kept in the store (clocks may disagree a bit). */
export const WINDOW_GRACE_MS = 10 * 60_000;

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
