/**
 * Prometheus metrics of this process, in the text exposition format.
 * @module
 */
import { LATENCY_BOUNDS_MS, type LogWriter } from "../logs/mod.ts";
import type { LogRecord } from "../store/mod.ts";
import type { Usage } from "../usage/mod.ts";
import type { KeyPool, Registry } from "../rotation/mod.ts";

/** Counters fed from finished requests. */
export interface Metrics {
  /** Counts a finished request. */
  observe(record: LogRecord): void;
  /** Renders every metric. */
  render(state: MetricsState): string;
}

/** Live state rendered as gauges. */
export interface MetricsState {
  registry: Registry;
  pool: KeyPool;
  logs: LogWriter;
  now: number;
  region: string | undefined;
}

const SECONDS = LATENCY_BOUNDS_MS.map((ms) => ms / 1000);

/** Options of {@linkcode createMetrics}. */
export interface MetricsOptions {
  /**
   * The label a model is counted under: names upstream has not confirmed share one label, so
   * invented names cannot add series (default: the name itself).
   */
  modelLabel?: (model: string) => string;
}

/** The series fed from finished requests, by their label strings. */
interface Series {
  requests: Map<string, number>;
  errors: Map<string, number>;
  tokens: Map<string, number>;
  latency: Map<string, number[]>;
  latencySum: Map<string, number>;
  regions: Map<string, number>;
  relays: Map<string, number>;
  usageUnknown: Map<string, number>;
  cost: Map<string, number>;
  costUnknown: Map<string, number>;
  failovers: number;
}

/** The counters rendered from {@linkcode Series}, in order: name, help and their values. */
const COUNTERS: [string, string, (series: Series) => Map<string, number>][] = [
  [
    "gemini_proxy_requests_total",
    "Requests answered, by status, model and API flavour.",
    (s) => s.requests,
  ],
  [
    "gemini_proxy_errors_total",
    "Requests that ended in an error, by error class.",
    (s) => s.errors,
  ],
  [
    "gemini_proxy_tokens_total",
    "Tokens reported by upstream usage metadata, by kind and model.",
    (s) => s.tokens,
  ],
  [
    "gemini_proxy_usage_unknown_total",
    "Streams that ended without usage (tokens not charged), by API flavour.",
    (s) => s.usageUnknown,
  ],
  [
    "gemini_proxy_cost_micro_usd_total",
    "Cost of requests at the configured model prices, in micro-USD (1 USD = 1e6), by model.",
    (s) => s.cost,
  ],
  [
    "gemini_proxy_cost_unknown_total",
    "Requests whose cost is unknown (unpriced model or no usage), by model.",
    (s) => s.costUnknown,
  ],
  ["gemini_proxy_region_requests_total", "Requests by serving region.", (s) => s.regions],
  [
    "gemini_proxy_relays_total",
    "Requests relayed to a fallback deployment (regional failover), by reason and outcome.",
    (s) => s.relays,
  ],
];

/**
 * Creates empty metrics.
 * @param options How model names become labels.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const modelLabel = options.modelLabel ?? ((model: string) => model);
  const series: Series = {
    requests: new Map(),
    errors: new Map(),
    tokens: new Map(),
    latency: new Map(),
    latencySum: new Map(),
    regions: new Map(),
    relays: new Map(),
    usageUnknown: new Map(),
    cost: new Map(),
    costUnknown: new Map(),
    failovers: 0,
  };
  return {
    observe(record) {
      const model = record.model === null ? "" : modelLabel(record.model);
      observe(series, { record, model });
    },
    render: (state) => render(series, state),
  };
}

function add(map: Map<string, number>, labels: string, value: number): void {
  map.set(labels, (map.get(labels) ?? 0) + value);
}

/** Counts one finished request. */
function observe(series: Series, finished: { record: LogRecord; model: string }): void {
  const { record, model } = finished;
  const named = modelLabels(model);
  add(series.requests, requestLabels(named, record), 1);
  if (record.errorClass) add(series.errors, labels({ class: record.errorClass }), 1);
  if (record.usage) observeTokens(series, { usage: record.usage, named });
  if (record.usageUnknown) add(series.usageUnknown, labels({ flavour: record.flavour }), 1);
  if (record.costMicros || record.costUnknown) {
    const l = named.model;
    if (record.costMicros) add(series.cost, l, record.costMicros);
    if (record.costUnknown) add(series.costUnknown, l, 1);
  }
  if (record.attempts.length > 1) series.failovers += record.attempts.length - 1;
  if (record.region) add(series.regions, labels({ region: record.region }), 1);
  if (record.relayReason) {
    const outcome = !record.relayedTo
      ? "unreachable"
      : record.errorClass === "relay_rejected"
      ? "refused"
      : "relayed";
    add(series.relays, labels({ reason: record.relayReason, outcome }), 1);
  }
  if (record.ttfbMs !== null) observeLatency(series, { ttfbMs: record.ttfbMs, named });
}

const TOKEN_KINDS = ["prompt", "candidates", "thoughts", "cached", "total"] as const;

function observeTokens(series: Series, counted: { usage: Usage; named: ModelLabels }): void {
  const { usage, named } = counted;
  for (let i = 0; i < TOKEN_KINDS.length; i++) {
    const kind = TOKEN_KINDS[i]!;
    if (usage[kind] > 0) {
      add(series.tokens, named.tokens[i] ??= labels({ kind, model: named.name }), usage[kind]);
    }
  }
}

function observeLatency(series: Series, timed: { ttfbMs: number; named: ModelLabels }): void {
  const l = timed.named.model;
  const counts = series.latency.get(l) ?? SECONDS.map(() => 0).concat(0);
  const s = timed.ttfbMs / 1000;
  const i = SECONDS.findIndex((bound) => s <= bound);
  counts[i < 0 ? SECONDS.length : i]!++;
  series.latency.set(l, counts);
  add(series.latencySum, l, s);
}

/** Every metric in the text exposition format. */
function render(series: Series, state: MetricsState): string {
  const out: string[] = [];
  for (const [name, help, values] of COUNTERS) counter(out, { name, help, values: values(series) });
  out.push("# HELP gemini_proxy_failovers_total Extra attempts on another key.");
  out.push("# TYPE gemini_proxy_failovers_total counter");
  out.push(`gemini_proxy_failovers_total ${series.failovers}`);
  renderLatency(out, series);
  renderKeys(out, state);
  gauge(out, {
    name: "gemini_proxy_log_queue_depth",
    help: "Log records waiting to be written.",
    value: state.logs.depth,
  });
  out.push(
    "# HELP gemini_proxy_logs_dropped_total Log records dropped because the queue was full.",
  );
  out.push("# TYPE gemini_proxy_logs_dropped_total counter");
  out.push(`gemini_proxy_logs_dropped_total ${state.logs.dropped}`);
  out.push("# HELP gemini_proxy_logs_written_total Log records written to the store.");
  out.push("# TYPE gemini_proxy_logs_written_total counter");
  out.push(`gemini_proxy_logs_written_total ${state.logs.written}`);
  out.push("# HELP gemini_proxy_info Build and region of this process.");
  out.push("# TYPE gemini_proxy_info gauge");
  out.push(`gemini_proxy_info${labels({ region: state.region ?? "" })} 1`);
  return out.join("\n") + "\n";
}

function renderLatency(out: string[], series: Series): void {
  out.push("# HELP gemini_proxy_upstream_latency_seconds Time until upstream response headers.");
  out.push("# TYPE gemini_proxy_upstream_latency_seconds histogram");
  for (const [l, counts] of series.latency) {
    let cumulative = 0;
    SECONDS.forEach((bound, i) => {
      cumulative += counts[i]!;
      out.push(
        `gemini_proxy_upstream_latency_seconds_bucket${merge(l, `le="${bound}"`)} ${cumulative}`,
      );
    });
    cumulative += counts[SECONDS.length]!;
    out.push(`gemini_proxy_upstream_latency_seconds_bucket${merge(l, 'le="+Inf"')} ${cumulative}`);
    out.push(`gemini_proxy_upstream_latency_seconds_sum${l} ${series.latencySum.get(l) ?? 0}`);
    out.push(`gemini_proxy_upstream_latency_seconds_count${l} ${cumulative}`);
  }
}

/** Keys by state, and how long each cooling key or project still rests. */
function renderKeys(out: string[], state: MetricsState): void {
  const cooldowns = state.pool.cooldowns();
  const coolingScopes = new Set(cooldowns.map((c) => c.scope));
  let enabled = 0;
  let disabled = 0;
  let cooling = 0;
  for (const key of state.registry.keys) {
    if (!key.record.enabled) disabled++;
    else if (coolingScopes.has(state.pool.scopeOf(key))) cooling++;
    else enabled++;
  }
  out.push("# HELP gemini_proxy_keys Gemini keys by state.");
  out.push("# TYPE gemini_proxy_keys gauge");
  out.push(`gemini_proxy_keys{state="enabled"} ${enabled}`);
  out.push(`gemini_proxy_keys{state="cooling"} ${cooling}`);
  out.push(`gemini_proxy_keys{state="disabled"} ${disabled}`);
  out.push(
    "# HELP gemini_proxy_key_cooldown_seconds Seconds until a cooling key or project frees up.",
  );
  out.push("# TYPE gemini_proxy_key_cooldown_seconds gauge");
  for (const c of cooldowns) {
    const key = state.registry.keys.find((k) => state.pool.scopeOf(k) === c.scope);
    const name = c.scope.startsWith("p:") ? c.scope : key?.record.masked ?? c.scope;
    const seconds = Math.max(0, (c.until - state.now) / 1000);
    out.push(
      `gemini_proxy_key_cooldown_seconds${labels({ key: name, model: c.model })} ${seconds}`,
    );
  }
}

/**
 * The label sets a model's series use, built once per model name: a request looks them up with
 * one map lookup by the name, with no key string built per request.
 */
interface ModelLabels {
  /** The model name as labelled. */
  name: string;
  /** `{model="..."}`. */
  model: string;
  /** `{kind="...",model="..."}`, by index in `TOKEN_KINDS`. */
  tokens: (string | undefined)[];
  /** `{status="...",model="...",flavour="..."}`, by status, then flavour. */
  requests: Map<number, Map<string, string>>;
}

/** Label sets by model name: building them per request costs more than looking them up. */
const labelCache = new Map<string, ModelLabels>();

function modelLabels(model: string): ModelLabels {
  let named = labelCache.get(model);
  if (named === undefined) {
    // Bounded against floods of invented names (model names are folded before they get here).
    if (labelCache.size > 10_000) labelCache.clear();
    labelCache.set(
      model,
      named = { name: model, model: labels({ model }), tokens: [], requests: new Map() },
    );
  }
  return named;
}

function requestLabels(named: ModelLabels, record: LogRecord): string {
  let byFlavour = named.requests.get(record.status);
  if (byFlavour === undefined) named.requests.set(record.status, byFlavour = new Map());
  let value = byFlavour.get(record.flavour);
  if (value === undefined) {
    const status = String(record.status);
    byFlavour.set(
      record.flavour,
      value = labels({ status, model: named.name, flavour: record.flavour }),
    );
  }
  return value;
}

function counter(
  out: string[],
  metric: { name: string; help: string; values: Map<string, number> },
): void {
  out.push(`# HELP ${metric.name} ${metric.help}`);
  out.push(`# TYPE ${metric.name} counter`);
  for (const [l, v] of metric.values) out.push(`${metric.name}${l} ${v}`);
}

function gauge(out: string[], metric: { name: string; help: string; value: number }): void {
  out.push(
    `# HELP ${metric.name} ${metric.help}`,
    `# TYPE ${metric.name} gauge`,
    `${metric.name} ${metric.value}`,
  );
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) =>
    `${k}="${v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"')}"`
  );
  return `{${parts.join(",")}}`;
}

function merge(l: string, extra: string): string {
  return l === "{}" ? `{${extra}}` : `${l.slice(0, -1)},${extra}}`;
}
