/**
 * The dashboard's first data, read once for both of its views (all traffic, and by model): the
 * same answers as `GET /admin/api/stats?range=...` with `group=none` and `group=model`, from a
 * single aggregate read.
 * @module
 */
import { buildStats, granularityFor, type Stats } from "../logs/mod.ts";
import type { Store } from "../store/mod.ts";

/** Range lengths, as the stats API knows them. */
export const STATS_RANGES = {
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
} as const;

/** A stats answer with its range and query time, as the admin API gives it. */
export type StatsAnswer = Stats & { from: number; to: number; queryMs: number };

/**
 * Reads the aggregates of a range once and builds both views.
 * @param store The store.
 * @param range One of {@linkcode STATS_RANGES}.
 * @param now Clock (epoch ms).
 * @returns All traffic, and traffic by model.
 */
export async function dashboardStats(
  store: Store,
  range: keyof typeof STATS_RANGES,
  now: () => number,
): Promise<{ stats: StatsAnswer; byModel: StatsAnswer }> {
  const started = now();
  const to = started + 1;
  const from = to - STATS_RANGES[range];
  const granularity = granularityFor(to - from);
  const size = granularity === "m" ? 60_000 : granularity === "h" ? 3_600_000 : 86_400_000;
  const rows = await store.readAggregates(granularity, {
    from: Math.floor(from / size) * size,
    to,
    rollupOnly: true,
  });
  const queryMs = now() - started;
  const view = (groupBy: "none" | "model") => ({
    ...buildStats(rows, { from, to, granularity, groupBy }),
    from,
    to,
    queryMs,
  });
  return { stats: view("none"), byModel: view("model") };
}
