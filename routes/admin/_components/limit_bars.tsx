/**
 * Usage against limits as bars: a proxy token's requests this minute and today, and tokens
 * today, each against its limit.
 * @module
 */
import { formatCount } from "../../../islands/_shared/format.ts";
import type { TokenView } from "../../../islands/_shared/types.ts";

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
}

/**
 * A token's bars. A budget (USD per day or month, once prices are known) is one more bar here.
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
          </li>
        );
      })}
    </ul>
  );
}
