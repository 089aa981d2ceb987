/**
 * The dashboard: totals (cost included), charts (requests and errors, latency, spend by model,
 * token or key in requests, tokens, USD or errors) and key health, for a chosen range; refreshed
 * live from the log tail and a slow poll.
 * @module
 */
import { type Signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { Chart } from "./_shared/chart.tsx";
import { ErrorBreakdown } from "./_shared/error_breakdown.tsx";
import { ariaBool, formatCount, formatCountdown, formatMs } from "./_shared/format.ts";
import { type SpendGroup, SpendView, type SpendViewProps } from "./_shared/spend_view.tsx";
import type { KeyView, Range, StatsView } from "./_shared/types.ts";
import { formatCost } from "./_shared/usd.ts";

/** Props: the first data, rendered on the server. */
export interface DashboardProps {
  /** Selected range. */
  range: Range;
  /** `GET /admin/api/stats?range=...`. */
  stats: StatsView;
  /** The same, grouped by `group`. */
  byModel: StatsView;
  /** What the spend view groups by first. */
  group?: SpendGroup;
  /** The spend view's first metric (`requests`, `tokens`, `cost`, `errors`). */
  metric?: string;
  /** `GET /admin/api/keys`. */
  keys: KeyView[];
  /** Token names and masked keys by id (never a secret). */
  names: SpendViewProps["names"];
}

const RANGES: Range[] = ["1h", "24h", "7d", "30d"];
const POLL_MS = 10_000;
const TAIL_REFRESH_MS = 1500;

/**
 * The dashboard island.
 * @param props First data.
 */
export default function Dashboard(props: DashboardProps) {
  const range = useSignal(props.range);
  const stats = useSignal(props.stats);
  const byModel = useSignal(props.byModel);
  const group = useSignal<SpendGroup>(props.group ?? "model");
  const metric = useSignal(props.metric ?? "requests");
  const keys = useSignal(props.keys);
  const loadedAt = useSignal<number | null>(null);
  const live = useSignal(false);
  const error = useSignal<string | null>(null);

  async function refresh(): Promise<void> {
    const r = range.value;
    try {
      const [s, m, k] = await Promise.all([
        api<StatsView>(`/stats?range=${r}`),
        api<StatsView>(`/stats?range=${r}&group=${group.value}`),
        api<{ keys: KeyView[] }>("/keys"),
      ]);
      if (r !== range.value) return;
      stats.value = s;
      byModel.value = m;
      keys.value = k.keys;
      loadedAt.value = performance.now();
      error.value = null;
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  useEffect(() => {
    loadedAt.value = performance.now();
    // Child effects (the charts) have run: the page is drawn and interactive.
    performance.mark("gp:hydrated");
    document.documentElement.dataset.hydrated = "true";
    const poll = setInterval(refresh, POLL_MS);
    let pending: ReturnType<typeof setTimeout> | undefined;
    const tail = new EventSource("/admin/api/logs/tail");
    tail.onopen = () => live.value = true;
    tail.onerror = () => live.value = false;
    tail.onmessage = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        void refresh();
      }, TAIL_REFRESH_MS);
    };
    return () => {
      clearInterval(poll);
      clearTimeout(pending);
      tail.close();
    };
  }, []);

  function regroup(g: SpendGroup) {
    const url = new URL(location.href);
    url.searchParams.set("group", g);
    history.replaceState(null, "", url);
    void refresh();
  }

  function remetric(m: string) {
    const url = new URL(location.href);
    url.searchParams.set("metric", m);
    history.replaceState(null, "", url);
  }

  function choose(r: Range) {
    range.value = r;
    const url = new URL(location.href);
    url.searchParams.set("range", r);
    history.replaceState(null, "", url);
    void refresh();
  }

  const s = stats.value;
  const all = s.series[0];
  const zeros = s.buckets.map(() => 0);
  const sides = all?.overall.errorGroups ?? { client: 0, keys: 0, upstream: 0, proxy: 0 };
  const share = (n: number) =>
    `${formatCount(n)}${
      s.totals.requests ? ` (${Math.round((n / s.totals.requests) * 100)}%)` : ""
    }`;
  const latest = lastIndex(all?.p50 ?? []);
  const rangeLabel = {
    "1h": "last hour",
    "24h": "last 24 hours",
    "7d": "last 7 days",
    "30d": "last 30 days",
  }[range.value];
  const errors = all?.overall.errors ?? 0;

  return (
    <div>
      <div class="page-head">
        <h1>Dashboard</h1>
        <div class="row">
          <span class={live.value ? "live" : "live off"}>{live.value ? "Live" : "Paused"}</span>
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
      </div>
      {error.value && <p class="notice bad" role="alert">{error.value}</p>}
      <div class="tiles">
        <Tile label="Requests" value={formatCount(s.totals.requests)} id="requests" />
        <Tile
          label="Client errors"
          value={share(sides.client)}
          sub="bad tokens, limits, bad requests"
          id="client-errors"
          kind="client"
        />
        <Tile
          label="Key errors"
          value={share(sides.keys)}
          sub="quota, invalid keys, none left"
          id="key-errors"
          kind="keys"
        />
        <Tile
          label="Upstream errors"
          value={share(sides.upstream + sides.proxy)}
          sub="Google, network, proxy"
          id="upstream-errors"
          kind="upstream"
        />
        <Tile
          label="Tokens"
          value={`${formatCount(s.totals.tokens.total ?? 0)}${
            s.totals.usageUnknown ? ` · ${formatCount(s.totals.usageUnknown)} streams unknown` : ""
          }`}
          id="tokens"
        />
        <Tile
          label="Cost"
          value={formatCost(s.totals.costMicros, s.totals.costUnknown)}
          sub="at the prices in Settings"
          id="cost"
        />
        <Tile
          label="Latency p50 / p95"
          value={latest < 0 ? "–" : `${formatMs(all?.p50[latest])} / ${formatMs(all?.p95[latest])}`}
          id="latency"
        />
        <Tile label="Failovers" value={formatCount(s.totals.failovers)} id="failovers" />
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
            {
              label: "Upstream",
              values: sum(all?.errorGroups.upstream ?? zeros, all?.errorGroups.proxy ?? zeros),
              color: "--c-2",
            },
            { label: "Failovers", values: all?.failovers ?? zeros, color: "--c-6" },
          ]}
          summary={`${s.totals.requests} requests and ${errors} errors in the ${rangeLabel}: ${sides.client} client side, ${sides.keys} keys, ${
            sides.upstream + sides.proxy
          } upstream`}
        />
        <ErrorBreakdown stats={s} rangeLabel={rangeLabel} />
        <Chart
          id="latency"
          title="Latency (upper bucket bound, UTC)"
          x={s.buckets}
          series={[
            { label: "p50", values: finite(all?.p50 ?? zeros), color: "--c-1" },
            { label: "p95", values: finite(all?.p95 ?? zeros), color: "--c-3" },
          ]}
          unit=" ms"
          summary={`Latency percentiles per bucket in the ${rangeLabel}`}
        />
        <KeyHealth keys={keys} loadedAt={loadedAt} onExpired={refresh} />
        <SpendView
          stats={byModel.value}
          group={group}
          metric={metric}
          names={props.names}
          rangeLabel={rangeLabel}
          onGroup={regroup}
          onMetric={remetric}
        />
      </div>
    </div>
  );
}

function Tile(props: { label: string; value: string; id: string; sub?: string; kind?: string }) {
  return (
    <div class={`tile ${props.kind ?? ""}`} data-tile={props.id}>
      <div class="label">{props.label}</div>
      <div class="value">{props.value}</div>
      {props.sub && <div class="sub">{props.sub}</div>}
    </div>
  );
}

function KeyHealth(
  props: { keys: Signal<KeyView[]>; loadedAt: Signal<number | null>; onExpired: () => void },
) {
  const now = useSignal<number | null>(null);
  useEffect(() => {
    const timer = setInterval(() => now.value = performance.now(), 1000);
    return () => clearInterval(timer);
  }, []);
  const elapsed = now.value !== null && props.loadedAt.value !== null
    ? (now.value - props.loadedAt.value) / 1000
    : 0;
  const keys = props.keys.value;
  useEffect(() => {
    const cooling = keys.some((k) => k.cooldowns.some((c) => c.seconds - elapsed <= 0));
    if (cooling && elapsed > 1) props.onExpired();
  }, [Math.floor(elapsed)]);
  const counts = { enabled: 0, cooling: 0, disabled: 0 };
  for (const k of keys) counts[k.status]++;
  return (
    <section class="card" aria-labelledby="key-health">
      <h2 id="key-health">Key health</h2>
      <p class="muted small">
        {counts.enabled} enabled · {counts.cooling} cooling · {counts.disabled} disabled
      </p>
      {keys.length === 0
        ? (
          <p class="empty">
            No keys yet: add some on the <a href="/admin/keys">Keys</a> page.
          </p>
        )
        : (
          <ul class="health">
            {keys.map((k) => (
              <li key={k.id} data-key={k.id}>
                <div class="top">
                  <a class="mono" href={`/admin/keys/${k.id}`}>{k.masked}</a>
                  <span
                    class={`pill ${
                      k.status === "enabled" ? "ok" : k.status === "cooling" ? "warn" : "bad"
                    }`}
                  >
                    {k.status}
                  </span>
                </div>
                {k.project && <span class="muted small">project {k.project}</span>}
                {k.status === "disabled" && (
                  <span class="small">{k.disabledReason ?? "disabled"}</span>
                )}
                {k.cooldowns.map((c) => (
                  <span class="small" key={c.model}>
                    {c.model === "*" ? "all models" : c.model}: frees in{" "}
                    <span class="mono" data-countdown>{formatCountdown(c.seconds - elapsed)}</span>
                  </span>
                ))}
              </li>
            ))}
          </ul>
        )}
    </section>
  );
}

function lastIndex(values: (number | null)[]): number {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return i;
  return -1;
}

function finite(values: (number | null)[]): (number | null)[] {
  return values.map((v) => v === null || Number.isFinite(v) ? v : null);
}

function sum(a: number[], b: number[]): number[] {
  return a.map((v, i) => v + (b[i] ?? 0));
}
