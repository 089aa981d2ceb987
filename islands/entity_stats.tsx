/**
 * One proxy token's or key's traffic over a chosen range: requests and errors by side, tokens,
 * cost and latency, from the aggregates (`/stats?tokenId=...` or `?keyId=...`).
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { Chart } from "./_shared/chart.tsx";
import { ErrorBreakdown } from "./_shared/error_breakdown.tsx";
import { ariaBool, formatCount, formatCountOf, formatMs } from "./_shared/format.ts";
import type { Range, StatsView } from "./_shared/types.ts";
import { formatCost } from "./_shared/usd.ts";

/** Props: whose traffic, and the first stats. */
export interface EntityStatsProps {
  /** `tokenId` or `keyId`. */
  by: "tokenId" | "keyId";
  /** The token's or key's id. */
  id: string;
  /** First range. */
  range: Range;
  /** `GET /admin/api/stats?range=...&<by>=<id>`. */
  stats: StatsView;
}

const RANGES: Range[] = ["1h", "24h", "7d", "30d"];

/**
 * The charts of one token or key.
 * @param props Whose, and first data.
 */
export default function EntityStats(props: EntityStatsProps) {
  const range = useSignal(props.range);
  const stats = useSignal(props.stats);
  const error = useSignal<string | null>(null);
  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
  }, []);

  async function choose(r: Range) {
    range.value = r;
    try {
      stats.value = await api<StatsView>(
        `/stats?range=${r}&${props.by}=${encodeURIComponent(props.id)}`,
      );
      error.value = null;
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  const s = stats.value;
  const all = s.series[0];
  const zeros = s.buckets.map(() => 0);
  const o = all?.overall;
  const label =
    { "1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days" }[
      range.value
    ];
  return (
    <section aria-label="Traffic" class="traffic">
      <div class="page-head">
        <h2>Traffic</h2>
        <div class="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button
              type="button"
              key={r}
              aria-pressed={ariaBool(range.value === r)}
              onClick={() => choose(r)}
            >
              {r}
            </button>
          ))}
        </div>
      </div>
      {error.value && <p class="notice bad" role="alert">{error.value}</p>}
      <div class="tiles">
        <div class="tile" data-tile="requests">
          <div class="label">Requests</div>
          <div class="value">{formatCount(o?.requests ?? 0)}</div>
        </div>
        <div class="tile client" data-tile="client-errors">
          <div class="label">Client errors</div>
          <div class="value">{formatCount(o?.errorGroups.client ?? 0)}</div>
        </div>
        <div class="tile keys" data-tile="key-errors">
          <div class="label">Key errors</div>
          <div class="value">{formatCount(o?.errorGroups.keys ?? 0)}</div>
        </div>
        <div class="tile upstream" data-tile="upstream-errors">
          <div class="label">Upstream errors</div>
          <div class="value">
            {formatCount((o?.errorGroups.upstream ?? 0) + (o?.errorGroups.proxy ?? 0))}
          </div>
        </div>
        <div class="tile" data-tile="tokens">
          <div class="label">Tokens</div>
          <div class="value">{formatCount(o?.tokens ?? 0)}</div>
        </div>
        <div class="tile" data-tile="cost">
          <div class="label">Cost</div>
          <div class="value">{formatCost(s.totals.costMicros, s.totals.costUnknown)}</div>
        </div>
        <div class="tile" data-tile="latency">
          <div class="label">Latency p50 / p95</div>
          <div class="value">{formatMs(o?.p50)} / {formatMs(o?.p95)}</div>
        </div>
      </div>
      <div class="grid-2">
        <Chart
          id="requests"
          title="Requests and errors by side (UTC)"
          x={s.buckets}
          series={[
            { label: "Requests", values: all?.requests ?? zeros, color: "--c-1" },
            { label: "Client", values: all?.errorGroups.client ?? zeros, color: "--c-3" },
            { label: "Keys", values: all?.errorGroups.keys ?? zeros, color: "--c-5" },
            { label: "Upstream", values: all?.errorGroups.upstream ?? zeros, color: "--c-2" },
          ]}
          summary={`${formatCountOf(o?.requests ?? 0, "request")} in the ${label}`}
        />
        <ErrorBreakdown stats={s} rangeLabel={label} />
        <Chart
          id="tokens"
          title="Tokens (UTC)"
          x={s.buckets}
          series={[{ label: "Tokens", values: all?.tokens ?? zeros, color: "--c-4" }]}
          summary={`${o?.tokens ?? 0} tokens in the ${label}`}
        />
        <Chart
          id="cost"
          title="Cost in USD (UTC)"
          x={s.buckets}
          series={[{ label: "Cost", values: all?.costMicros ?? zeros, color: "--c-6" }]}
          unit="usd"
          summary={`${formatCost(s.totals.costMicros, s.totals.costUnknown)} spent in the ${label}`}
        />
        <Chart
          id="latency"
          title="Latency (upper bucket bound, UTC)"
          x={s.buckets}
          series={[
            { label: "p50", values: finite(all?.p50 ?? zeros), color: "--c-1" },
            { label: "p95", values: finite(all?.p95 ?? zeros), color: "--c-3" },
          ]}
          unit=" ms"
          summary={`Latency percentiles in the ${label}`}
        />
      </div>
    </section>
  );
}

function finite(values: (number | null)[]): (number | null)[] {
  return values.map((v) => v === null || Number.isFinite(v) ? v : null);
}
