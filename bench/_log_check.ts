/**
 * Comparing what a load client was served with what Gemini Proxy logged: /healthz until the log
 * queue is empty, /metrics counters, the admin logs API, and the KV file itself once the proxy
 * has stopped.
 * @module
 */
import type { Server } from "./_process.ts";
import type { LoggedCheck } from "./_results.ts";
import { countStoredLogs } from "./_seed_logs.ts";
import { ADMIN_PASSWORD, METRICS_TOKEN } from "./_targets.ts";
import type { FixedLoadResult } from "./fixed_load.ts";

/** The log queue as /healthz reports it. */
export interface LogQueueState {
  /** Records waiting. */
  queued: number;
  /** Records dropped since start. */
  dropped: number;
  /** Records written since start. */
  written: number;
  /** Whether the last write failed. */
  failing: boolean;
}

/**
 * GETs an admin API path with the bench's admin password.
 * @param server A Gemini Proxy started with `productionEnv`.
 * @param path Path and query, e.g. `/admin/api/stats?range=30d`.
 * @returns The parsed JSON.
 * @throws {Error} On a non-200 answer.
 */
export async function adminGet<T>(server: Server, path: string): Promise<T> {
  const response = await fetch(server.url + path, {
    headers: { authorization: `Bearer ${ADMIN_PASSWORD}` },
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`GET ${path}: status ${response.status}: ${text.slice(0, 300)}`);
  }
  return JSON.parse(text) as T;
}

/**
 * Reads the log queue from /healthz.
 * @param server A Gemini Proxy.
 * @returns Its log queue state.
 */
export async function logQueue(server: Server): Promise<LogQueueState> {
  const response = await fetch(`${server.url}/healthz`);
  const body = await response.json() as { logs?: LogQueueState };
  if (!body.logs) throw new Error(`/healthz has no logs field: ${JSON.stringify(body)}`);
  return body.logs;
}

/**
 * Polls /healthz every 100 ms until the log queue is empty.
 * @param server A Gemini Proxy.
 * @param timeoutMs Give up after this long.
 * @returns The state once empty, and how long that took.
 * @throws {Error} When the queue does not drain in time.
 */
export async function waitForLogFlush(
  server: Server,
  timeoutMs = 60_000,
): Promise<{ state: LogQueueState; ms: number }> {
  const started = performance.now();
  while (true) {
    const state = await logQueue(server);
    if (state.queued === 0) return { state, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) {
      throw new Error(`log queue still holds ${state.queued} records after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Sums every sample of one metric in Prometheus text (all label sets).
 * @param text /metrics output.
 * @param name Metric name.
 * @returns The sum, or null when the metric is absent.
 */
export function sumMetric(text: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/**
 * Reads /metrics with the bench's metrics token.
 * @param server A Gemini Proxy.
 * @returns The Prometheus text.
 */
export async function readMetrics(server: Server): Promise<string> {
  const response = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/metrics: status ${response.status}: ${text}`);
  return text;
}

/**
 * Counts log records through the admin API, 500 a page, following the cursor.
 * @param server A Gemini Proxy.
 * @returns Records listed.
 */
export async function countLogsViaApi(server: Server): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page: { logs: unknown[]; cursor: string | null } = await adminGet(
      server,
      `/admin/api/logs?limit=500${query}`,
    );
    count += page.logs.length;
    cursor = page.cursor;
  } while (cursor);
  return count;
}

/**
 * After a load: waits for the log queue to drain, reads the counters, optionally pages the admin
 * API, stops the proxy (a graceful stop: it writes whatever is left) and counts the records in
 * its KV file.
 * @param server The proxy (stopped on return).
 * @param kvPath Its KV file.
 * @param load What the client saw (counts of every request the proxy answered).
 * @param options `page`: also count through the admin API; `before`: records the store held
 * before the load (subtracted from the KV count).
 * @returns The comparison.
 */
export async function checkLogged(
  server: Server,
  kvPath: string,
  load: Pick<FixedLoadResult, "ok" | "badStatus" | "failed">,
  options: { page: boolean; before?: number },
): Promise<LoggedCheck> {
  const flush = await waitForLogFlush(server);
  const metrics = await readMetrics(server);
  const apiCount = options.page ? await countLogsViaApi(server) : null;
  await server.stop();
  const kvCount = (await countStoredLogs(kvPath)) - (options.before ?? 0);
  const answered = load.ok + load.badStatus;
  const check: LoggedCheck = {
    served: load.ok,
    badStatus: load.badStatus,
    failed: load.failed,
    metricRequests: sumMetric(metrics, "gemini_proxy_requests_total"),
    metricWritten: sumMetric(metrics, "gemini_proxy_logs_written_total"),
    metricDropped: sumMetric(metrics, "gemini_proxy_logs_dropped_total"),
    apiCount,
    kvCount,
    flushMs: flush.ms,
    ok: false,
  };
  check.ok = load.failed === 0 && kvCount === answered && check.metricWritten === answered &&
    check.metricDropped === 0 && (apiCount === null || apiCount === answered);
  if (!check.ok) {
    console.error(
      `\n!!! SERVED != LOGGED: served ${load.ok} (+${load.badStatus} non-2xx, ${load.failed} ` +
        `failed), KV holds ${kvCount}, API listed ${apiCount ?? "-"}, metrics written ` +
        `${check.metricWritten}, dropped ${check.metricDropped}\n`,
    );
  }
  return check;
}
