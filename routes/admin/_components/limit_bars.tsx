/**
 * Usage against limits as bars: a proxy token's requests this minute and today, tokens today,
 * and spending this month, each against its limit.
 * @module
 */
import { formatCount, formatTime } from "../../../islands/_shared/format.ts";
import type { TokenView } from "../../../islands/_shared/types.ts";
import { formatUsd } from "../../../islands/_shared/usd.ts";

/** One bar: what is used of what is allowed. */
export interface LimitBar {
  /** Stable id (`rpm`, `rpd`, `tpd`). */
  id: string;
  /** What it measures. */
  label: string;
  /** Used in the current window. */
  used: number;
  /** The limit; undefined draws the usage without a bar (no limit set). */
  limit: number | undefined;
  /** Prints an amount. */
  format: (n: number) => string;
  /** Said under the bar, e.g. when its window resets. */
  note?: string;
}

/**
 * A token's bars: requests this minute and today, tokens today, and the Pacific month's spending
 * against its budget, with the moment it resets in UTC, as the console shows every time.
 * @param token The token with its usage.
 */
export function tokenLimitBars(token: TokenView): LimitBar[] {
  const u = token.usage;
  return [
    {
      id: "rpm",
      label: "Requests this minute",
      used: u?.minute.requests ?? 0,
      limit: token.limits?.rpm,
      format: formatCount,
    },
    {
      id: "rpd",
      label: "Requests today (Pacific day)",
      used: u?.today.requests ?? 0,
      limit: token.limits?.rpd,
      format: formatCount,
    },
    {
      id: "tpd",
      label: "Tokens today (Pacific day)",
      used: u?.today.tokens ?? 0,
      limit: token.limits?.tpd,
      format: formatCount,
    },
    {
      id: "budget",
      label: "Spent this month (Pacific month)",
      used: u?.month.costMicros ?? 0,
      limit: token.limits?.budgetMicros,
      format: formatUsd,
      ...(u ? { note: `resets ${formatTime(u.month.resetsAt)}` } : {}),
    },
  ];
}

/**
 * The bars, with the share used and a colour when near or at the limit.
 * @param props The bars.
 */
export function LimitBars(props: { bars: LimitBar[] }) {
  return (
    <ul class="bars limit-bars" aria-label="Usage against limits">
      {props.bars.map((b) => {
        const share = b.limit ? Math.min(1, b.used / b.limit) : 0;
        const level = share >= 1 ? "full" : share >= 0.8 ? "near" : "";
        return (
          <li key={b.id} data-limit={b.id}>
            <span>{b.label}</span>
            <span class="muted">
              {b.format(b.used)}
              {b.limit !== undefined
                ? ` of ${b.format(b.limit)} (${Math.round(share * 100)}%)`
                : " · no limit"}
            </span>
            <span class="bar">
              <span class={level} style={{ width: `${share * 100}%` }} />
            </span>
            {b.note && <span class="small muted note" data-note>{b.note}</span>}
          </li>
        );
      })}
    </ul>
  );
}
