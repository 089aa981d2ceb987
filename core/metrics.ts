/**
 * Prometheus metrics of this process, in the text exposition format.
 * @module
 */
import { LATENCY_BOUNDS_MS } from "./logs/aggregates.ts";
import type { LogRecord } from "./logs/log_record.ts";
import type { LogWriter } from "./logs/log_writer.ts";
import type { KeyPool } from "./key_pool.ts";
import type { Registry } from "./registry.ts";

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

/**
 * Creates empty metrics.
 * @param options How model names become labels.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const modelLabel = options.modelLabel ?? ((model: string) => model);
  const requests = new Map<string, number>();
  const errors = new Map<string, number>();
  const tokens = new Map<string, number>();
  const latency = new Map<string, number[]>();
  const latencySum = new Map<string, number>();
  const regions = new Map<string, number>();
  const relays = new Map<string, number>();
  const usageUnknown = new Map<string, number>();
  const cost = new Map<string, number>();
  const costUnknown = new Map<string, number>();
  let failovers = 0;

  function add(map: Map<string, number>, labels: string, value: number): void {
    map.set(labels, (map.get(labels) ?? 0) + value);
  }

  return {
    observe(record) {
      const model = record.model === null ? "" : modelLabel(record.model);
      add(
        requests,
        cachedLabels(
          `${record.status}|${model}|${record.flavour}`,
          () => labels({ status: String(record.status), model, flavour: record.flavour }),
        ),
        1,
      );
      if (record.errorClass) add(errors, labels({ class: record.errorClass }), 1);
      if (record.usage) {
        for (const kind of ["prompt", "candidates", "thoughts", "cached", "total"] as const) {
          if (record.usage[kind] > 0) {
            add(
              tokens,
              cachedLabels(`t|${kind}|${model}`, () => labels({ kind, model })),
              record.usage[kind],
            );
          }
        }
      }
      if (record.usageUnknown) add(usageUnknown, labels({ flavour: record.flavour }), 1);
      if (record.costMicros || record.costUnknown) {
        const l = cachedLabels(`m|${model}`, () => labels({ model }));
        if (record.costMicros) add(cost, l, record.costMicros);
        if (record.costUnknown) add(costUnknown, l, 1);
      }
      if (record.attempts.length > 1) failovers += record.attempts.length - 1;
      if (record.region) add(regions, labels({ region: record.region }), 1);
      if (record.relayReason) {
        const outcome = !record.relayedTo
          ? "unreachable"
          : record.errorClass === "relay_rejected"
          ? "refused"
          : "relayed";
        add(relays, labels({ reason: record.relayReason, outcome }), 1);
      }
      if (record.ttfbMs !== null) {
        const l = cachedLabels(`m|${model}`, () => labels({ model }));
        const counts = latency.get(l) ?? SECONDS.map(() => 0).concat(0);
        const s = record.ttfbMs / 1000;
        const i = SECONDS.findIndex((bound) => s <= bound);
        counts[i < 0 ? SECONDS.length : i]!++;
        latency.set(l, counts);
        add(latencySum, l, s);
      }
    },
    render(state) {
      const out: string[] = [];
      counter(
        out,
        "gemini_proxy_requests_total",
        "Requests answered, by status, model and API flavour.",
        requests,
      );
      counter(
        out,
        "gemini_proxy_errors_total",
        "Requests that ended in an error, by error class.",
        errors,
      );
      counter(
        out,
        "gemini_proxy_tokens_total",
        "Tokens reported by upstream usage metadata, by kind and model.",
        tokens,
      );
      counter(
        out,
        "gemini_proxy_usage_unknown_total",
        "Streams that ended without usage (tokens not charged), by API flavour.",
        usageUnknown,
      );
      counter(
        out,
        "gemini_proxy_cost_micro_usd_total",
        "Cost of requests at the configured model prices, in micro-USD (1 USD = 1e6), by model.",
        cost,
      );
      counter(
        out,
        "gemini_proxy_cost_unknown_total",
        "Requests whose cost is unknown (unpriced model or no usage), by model.",
        costUnknown,
      );
      counter(out, "gemini_proxy_region_requests_total", "Requests by serving region.", regions);
      counter(
        out,
        "gemini_proxy_relays_total",
        "Requests relayed to a fallback deployment (regional failover), by reason and outcome.",
        relays,
      );
      out.push("# HELP gemini_proxy_failovers_total Extra attempts on another key.");
      out.push("# TYPE gemini_proxy_failovers_total counter");
      out.push(`gemini_proxy_failovers_total ${failovers}`);
      out.push(
        "# HELP gemini_proxy_upstream_latency_seconds Time until upstream response headers.",
      );
      out.push("# TYPE gemini_proxy_upstream_latency_seconds histogram");
      for (const [l, counts] of latency) {
        let cumulative = 0;
        SECONDS.forEach((bound, i) => {
          cumulative += counts[i]!;
          out.push(
            `gemini_proxy_upstream_latency_seconds_bucket${
              merge(l, `le="${bound}"`)
            } ${cumulative}`,
          );
        });
        cumulative += counts[SECONDS.length]!;
        out.push(
          `gemini_proxy_upstream_latency_seconds_bucket${merge(l, 'le="+Inf"')} ${cumulative}`,
        );
        out.push(`gemini_proxy_upstream_latency_seconds_sum${l} ${latencySum.get(l) ?? 0}`);
        out.push(`gemini_proxy_upstream_latency_seconds_count${l} ${cumulative}`);
      }
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
      gauge(
        out,
        "gemini_proxy_log_queue_depth",
        "Log records waiting to be written.",
        state.logs.depth,
      );
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
    },
  };
}

/** Label strings by a short key: building them per request costs more than looking them up. */
const labelCache = new Map<string, string>();

function cachedLabels(key: string, build: () => string): string {
  let value = labelCache.get(key);
  if (value === undefined) {
    if (labelCache.size > 10_000) labelCache.clear();
    labelCache.set(key, value = build());
  }
  return value;
}

function counter(out: string[], name: string, help: string, values: Map<string, number>): void {
  out.push(`# HELP ${name} ${help}`);
  out.push(`# TYPE ${name} counter`);
  for (const [l, v] of values) out.push(`${name}${l} ${v}`);
}

function gauge(out: string[], name: string, help: string, value: number): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
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
