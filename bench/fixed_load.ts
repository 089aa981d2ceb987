/**
 * A load client that knows exactly how many requests it sent: `concurrency` workers, each with a
 * keep-alive connection, send one request after another until `requests` have been sent (or, with
 * `seconds`, until the time is up; a request in flight at the deadline is still awaited). wrk cannot
 * stop after a fixed count, and when its time is up it drops the requests in flight, which the
 * server may still have served and logged; this client never abandons one, so the 2xx responses it
 * counts are exactly the requests the server answered with success.
 *
 * Run as its own process by the harness (`deno run --allow-net=127.0.0.1 bench/fixed_load.ts
 * '<json spec>'`), it prints one line `FIXED_JSON {...}` with a {@linkcode FixedLoadResult}.
 * @module
 */

/** What to send, how many at once, and how many or for how long. */
export interface FixedLoadSpec {
  /** Full URL on 127.0.0.1. */
  url: string;
  /** HTTP method. */
  method: string;
  /** Request headers. */
  headers: Record<string, string>;
  /** Request body. */
  body: string;
  /** Requests in flight at once (one connection each). */
  concurrency: number;
  /** Exactly this many requests (wins over `seconds`). */
  requests?: number;
  /** Keep sending for this long, s (used when `requests` is not given). */
  seconds?: number;
}

/** What the client saw. */
export interface FixedLoadResult {
  /** Requests sent. */
  sent: number;
  /** Responses with a 2xx status, body read to the end. */
  ok: number;
  /** Responses with another status. */
  badStatus: number;
  /** Requests that failed without a response (connection errors). */
  failed: number;
  /** First problem seen, for the report. */
  firstError: string | null;
  /** Wall time from the first request to the last response, ms. */
  elapsedMs: number;
  /** Requests per second over that time. */
  rps: number;
  /** Latency percentiles, ms. */
  p50Ms: number;
  /** 99th percentile, ms. */
  p99Ms: number;
}

/**
 * Sends the load.
 * @param spec Target, concurrency and count or duration.
 * @returns Counts and timings.
 */
export async function fixedLoad(spec: FixedLoadSpec): Promise<FixedLoadResult> {
  const total = spec.requests ?? Infinity;
  const deadline = spec.requests === undefined
    ? performance.now() + (spec.seconds ?? 10) * 1000
    : Infinity;
  let sent = 0;
  let ok = 0;
  let badStatus = 0;
  let failed = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  const started = performance.now();

  async function worker(): Promise<void> {
    while (sent < total && performance.now() < deadline) {
      sent++;
      const t = performance.now();
      try {
        const response = await fetch(spec.url, {
          method: spec.method,
          headers: spec.headers,
          body: spec.body,
        });
        const text = await response.text();
        latencies.push(performance.now() - t);
        if (response.status >= 200 && response.status < 300) ok++;
        else {
          badStatus++;
          firstError ??= `status ${response.status}: ${text.slice(0, 200)}`;
        }
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, () => worker()));
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ??
      0;
  return {
    sent,
    ok,
    badStatus,
    failed,
    firstError,
    elapsedMs,
    rps: (ok + badStatus) / (elapsedMs / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "{}") as FixedLoadSpec;
  const result = await fixedLoad(spec);
  console.log(`FIXED_JSON ${JSON.stringify(result)}`);
}
