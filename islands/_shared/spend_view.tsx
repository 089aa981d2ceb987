/**
 * Who spends what: traffic of a range grouped by model, proxy token or key, as a chart of the
 * biggest groups and a ranked list of every group, in a chosen metric. Groups are shown by name
 * (token names, masked keys) and link to their own pages.
 * @module
 */
import type { Signal } from "@preact/signals";
import { Chart, type ChartSeries } from "./chart.tsx";
import { ariaBool, formatCount } from "./format.ts";
import type { Series, StatsView } from "./types.ts";
import { formatCost, formatUsd } from "./usd.ts";

/** What traffic is grouped by. */
export type SpendGroup = "model" | "tokenId" | "keyId";

/**
 * A metric the spend views can show: its series per bucket, how to print a value, and, for a
 * metric some requests cannot be counted in (cost), how many of them there are per bucket.
 */
export interface SpendMetric {
  id: string;
  label: string;
  values: (s: Series) => number[];
  format: (n: number) => string;
  /** Requests left out of `values` because their amount is unknown (shown, never as 0). */
  unknown?: (s: Series) => number[];
  /** The chart's unit (see `Chart`). */
  unit?: string;
}

/** The metrics offered, in order. */
export const SPEND_METRICS: SpendMetric[] = [
  { id: "requests", label: "Requests", values: (s) => s.requests, format: formatCount },
  { id: "tokens", label: "Tokens", values: (s) => s.tokens, format: formatCount },
  {
    id: "cost",
    label: "Cost (USD)",
    values: (s) => s.costMicros,
    format: formatUsd,
    unknown: (s) => s.costUnknown,
    unit: "usd",
  },
  { id: "errors", label: "Errors", values: (s) => s.errors, format: formatCount },
];

const GROUPS: { id: SpendGroup; label: string }[] = [
  { id: "model", label: "Model" },
  { id: "tokenId", label: "Token" },
  { id: "keyId", label: "Key" },
];
const COLORS = ["--c-1", "--c-4", "--c-5", "--c-6", "--c-3", "--c-2"];

/** Props of {@linkcode SpendView}. */
export interface SpendViewProps {
  /** Stats grouped by the chosen dimension. */
  stats: StatsView;
  /** The chosen dimension. */
  group: Signal<SpendGroup>;
  /** The chosen metric's id. */
  metric: Signal<string>;
  /** Display names of tokens and keys by id. */
  names: { tokens: Record<string, string>; keys: Record<string, string> };
  /** Range in words, e.g. "last 24 hours". */
  rangeLabel: string;
  /** Called after the dimension changes (to load its stats). */
  onGroup: (group: SpendGroup) => void;
  /** Called after the metric changes. */
  onMetric?: (metric: string) => void;
}

/**
 * The spend card.
 * @param props Stats, choices and names.
 */
export function SpendView(props: SpendViewProps) {
  const metric = SPEND_METRICS.find((m) => m.id === props.metric.value) ?? SPEND_METRICS[0]!;
  const group = props.group.value;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const rows = props.stats.series
    .map((s) => {
      const values = metric.values(s);
      return {
        s,
        values,
        total: sum(values),
        unknown: metric.unknown ? sum(metric.unknown(s)) : 0,
      };
    })
    .filter((r) => r.s.group !== "-" && (r.total > 0 || r.unknown > 0))
    .sort((a, b) => b.total - a.total || b.unknown - a.unknown);
  const max = Math.max(1, ...rows.map((r) => r.total));
  const series: ChartSeries[] = rows.slice(0, COLORS.length).map((r, i) => ({
    label: nameOf(group, r.s.group, props.names),
    values: r.values,
    color: COLORS[i]!,
  }));
  const dimension = GROUPS.find((g) => g.id === group)!.label.toLowerCase();
  return (
    <section class="card span-2" aria-labelledby="spend-title" data-spend={group}>
      <div class="toolbar">
        <h2 id="spend-title" class="grow" style={{ margin: 0 }}>
          {metric.label} by {dimension}
        </h2>
        <div class="segmented" role="group" aria-label="Group by">
          {GROUPS.map((g) => (
            <button
              type="button"
              key={g.id}
              data-group={g.id}
              aria-pressed={ariaBool(group === g.id)}
              onClick={() => {
                props.group.value = g.id;
                props.onGroup(g.id);
              }}
            >
              {g.label}
            </button>
          ))}
        </div>
        <label class="field">
          <span class="sr-only">Metric</span>
          <select
            id="spend-metric"
            aria-label="Metric"
            value={metric.id}
            onChange={(e) => {
              props.metric.value = e.currentTarget.value;
              props.onMetric?.(e.currentTarget.value);
            }}
          >
            {SPEND_METRICS.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
          </select>
        </label>
      </div>
      <Chart
        id="spend"
        title={`${metric.label} per ${dimension}, top ${COLORS.length}`}
        x={props.stats.buckets}
        series={series.length
          ? series
          : [{ label: "No traffic", values: props.stats.buckets.map(() => 0), color: "--muted" }]}
        summary={`${metric.label} per ${dimension} in the ${props.rangeLabel}`}
        {...(metric.unit ? { unit: metric.unit } : {})}
      >
        {rows.length > 0
          ? (
            <ul class="bars" aria-label={`${metric.label} by ${dimension}, totals`}>
              {rows.map((r) => (
                <li key={r.s.group} data-spend-row={r.s.group}>
                  <SpendName group={group} id={r.s.group} names={props.names} />
                  <span class="muted" data-spend-value>
                    {metric.unknown ? formatCost(r.total, r.unknown) : metric.format(r.total)}
                  </span>
                  <span class="bar">
                    <span style={{ width: `${(r.total / max) * 100}%` }} />
                  </span>
                </li>
              ))}
            </ul>
          )
          : <p class="empty">No {metric.label.toLowerCase()} in the {props.rangeLabel}.</p>}
      </Chart>
    </section>
  );
}

function SpendName(
  props: { group: SpendGroup; id: string; names: SpendViewProps["names"] },
) {
  const name = nameOf(props.group, props.id, props.names);
  if (props.group === "tokenId") return <a href={`/admin/tokens/${props.id}`}>{name}</a>;
  if (props.group === "keyId") {
    return <a class="mono" href={`/admin/keys/${props.id}`}>{name}</a>;
  }
  return <span class="mono">{name}</span>;
}

/**
 * The name a group is shown by: a token's name, a key's masked form, or the model.
 * @param group The dimension.
 * @param id The group's value.
 * @param names Known names.
 */
export function nameOf(group: SpendGroup, id: string, names: SpendViewProps["names"]): string {
  if (group === "tokenId") return names.tokens[id] ?? `deleted token ${id}`;
  if (group === "keyId") return names.keys[id] ?? `deleted key ${id}`;
  return id;
}
