/**
 * The dashboard: totals, charts (requests and errors, latency, tokens by model) and key health,
 * for a chosen range; refreshed live from the log tail and a slow poll.
 * @module
 */
import { type Signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { Chart, type ChartSeries } from "./_shared/chart.tsx";
import { ariaBool, formatCount, formatCountdown, formatMs } from "./_shared/format.ts";
import type { KeyView, Range, StatsView } from "./_shared/types.ts";

/** Props: the first data, rendered on the server. */
export interface DashboardProps {
  /** Selected range. */
  range: Range;
  /** `GET /admin/api/stats?range=...`. */
  stats: StatsView;
  /** The same, grouped by model. */
  byModel: StatsView;
  /** `GET /admin/api/keys`. */
  keys: KeyView[];
}

const RANGES: Range[] = ["1h", "24h", "7d", "30d"];
const MODEL_COLORS = ["--c-1", "--c-4", "--c-5", "--c-6", "--c-3", "--c-2"];
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
  const keys = useSignal(props.keys);
  const loadedAt = useSignal<number | null>(null);
  const live = useSignal(false);
  const error = useSignal<string | null>(null);

  async function refresh(): Promise<void> {
    const r = range.value;
    try {
      const [s, m, k] = await Promise.all([
        api<StatsView>(`/stats?range=${r}`),
        api<StatsView>(`/stats?range=${r}&group=model`),
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
  const errors = Object.values(s.totals.errors).reduce((a, b) => a + b, 0);
  const latest = lastIndex(all?.p50 ?? []);
  const rangeLabel = {
    "1h": "last hour",
    "24h": "last 24 hours",
    "7d": "last 7 days",
    "30d": "last 30 days",
  }[range.value];

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
          label="Errors"
          value={`${formatCount(errors)}${
            s.totals.requests ? ` (${Math.round((errors / s.totals.requests) * 100)}%)` : ""
          }`}
          id="errors"
        />
        <Tile
          label="Tokens"
          value={`${formatCount(s.totals.tokens.total ?? 0)}${
            s.totals.usageUnknown ? ` · ${formatCount(s.totals.usageUnknown)} streams unknown` : ""
          }`}
          id="tokens"
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
          title="Requests and errors"
          x={s.buckets}
          series={[
            { label: "Requests", values: all?.requests ?? zeros, color: "--c-1" },
            { label: "Errors", values: all?.errors ?? zeros, color: "--c-2" },
            { label: "Failovers", values: all?.failovers ?? zeros, color: "--c-3" },
          ]}
          summary={`${s.totals.requests} requests and ${errors} errors in the ${rangeLabel}`}
        />
        <Chart
          id="latency"
          title="Latency (ms, upper bucket bound)"
          x={s.buckets}
          series={[
            { label: "p50", values: finite(all?.p50 ?? zeros), color: "--c-1" },
            { label: "p95", values: finite(all?.p95 ?? zeros), color: "--c-3" },
          ]}
          unit=" ms"
          summary={`Latency percentiles per bucket in the ${rangeLabel}`}
        />
        <TokensByModel stats={byModel.value} rangeLabel={rangeLabel} />
        <KeyHealth keys={keys} loadedAt={loadedAt} onExpired={refresh} />
      </div>
    </div>
  );
}

function Tile(props: { label: string; value: string; id: string }) {
  return (
    <div class="tile" data-tile={props.id}>
      <div class="label">{props.label}</div>
      <div class="value">{props.value}</div>
    </div>
  );
}

function TokensByModel(props: { stats: StatsView; rangeLabel: string }) {
  const models = props.stats.series
    .map((s) => ({ model: s.group, values: s.tokens, total: s.tokens.reduce((a, b) => a + b, 0) }))
    .filter((m) => m.model !== "-")
    .sort((a, b) => b.total - a.total);
  const top = models.slice(0, MODEL_COLORS.length);
  const max = Math.max(1, ...models.map((m) => m.total));
  const series: ChartSeries[] = top.map((m, i) => ({
    label: m.model,
    values: m.values,
    color: MODEL_COLORS[i]!,
  }));
  return (
    <Chart
      id="tokens"
      title="Tokens by model"
      x={props.stats.buckets}
      series={series.length
        ? series
        : [{ label: "No traffic", values: props.stats.buckets.map(() => 0), color: "--muted" }]}
      summary={`Tokens per model in the ${props.rangeLabel}`}
    >
      {models.length > 0 && (
        <ul class="bars" aria-label="Tokens by model, totals">
          {models.map((m) => (
            <li key={m.model}>
              <span class="mono">{m.model}</span>
              <span class="muted">{formatCount(m.total)}</span>
              <span class="bar">
                <span style={{ width: `${(m.total / max) * 100}%` }} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </Chart>
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
                  <span class="mono">{k.masked}</span>
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
