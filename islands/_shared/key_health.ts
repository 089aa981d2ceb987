/**
 * A key's health over a range from the aggregates: how many requests it answered last, the share
 * without a key or upstream error (a client's mistake is not the key's), and its median latency.
 * @module
 */
import type { KeyHealthView, Series } from "./types.ts";

/**
 * Health of every key in stats grouped by key.
 * @param series `GET /admin/api/stats?range=24h&group=keyId` series.
 * @returns Health by key id.
 */
export function keyHealthOf(series: Series[]): Record<string, KeyHealthView> {
  const out: Record<string, KeyHealthView> = {};
  for (const s of series) {
    const o = s.overall;
    const failed = o.errorGroups.keys + o.errorGroups.upstream;
    out[s.group] = {
      requests: o.requests,
      successRate: o.requests > 0 ? (o.requests - failed) / o.requests : null,
      p50: o.p50 !== null && Number.isFinite(o.p50) ? o.p50 : null,
    };
  }
  return out;
}

/**
 * A success rate as a percentage, e.g. `99.5%` (a dash without traffic).
 * @param rate Share from 0 to 1, or null.
 */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "–";
  const pct = rate * 100;
  return `${pct >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}
