/**
 * Streaming load client: keeps `concurrency` SSE requests in flight for a while and measures, per
 * stream, the time to the first event and the gaps between events as the client receives them.
 *
 * Run as its own process by the harness (`deno run --allow-net=127.0.0.1 bench/stream_client.ts
 * '<json spec>'`), it prints one line `STREAM_JSON {...}` with a {@linkcode StreamResult}.
 * @module
 */

/** What to stream from and for how long. */
export interface StreamSpec {
  /** Full URL of a streaming endpoint on 127.0.0.1. */
  url: string;
  /** Request headers. */
  headers: Record<string, string>;
  /** Request body (POST). */
  body: string;
  /** Streams kept in flight at once. */
  concurrency: number;
  /** How long to keep starting streams, ms (ignored with `once`). */
  durationMs: number;
  /** Each worker runs exactly one stream: `concurrency` streams in all, opened at once. */
  once?: boolean;
  /** Events each stream must carry to count as complete. */
  expectedEvents: number;
}

/** Figures over every stream of a run, ms. */
export interface StreamResult {
  /** Streams completed with the expected number of events. */
  streams: number;
  /** Streams that failed, had a non-200 status or the wrong number of events. */
  errors: number;
  /** First error seen, for the report. */
  firstError: string | null;
  /** Time from sending the request to the first complete SSE event, median. */
  ttfcP50Ms: number;
  /** Same, 99th percentile. */
  ttfcP99Ms: number;
  /** Gap between two consecutive events of a stream, median. */
  gapP50Ms: number;
  /** Same, 99th percentile. */
  gapP99Ms: number;
  /** Largest gap seen. */
  gapMaxMs: number;
  /** Whole stream, median. */
  totalP50Ms: number;
}

/**
 * Runs the streaming load.
 * @param spec Target, concurrency and duration.
 * @returns Aggregated timings.
 */
export async function measureStreams(spec: StreamSpec): Promise<StreamResult> {
  const ttfc: number[] = [];
  const gaps: number[] = [];
  const totals: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const deadline = performance.now() + spec.durationMs;

  async function worker(): Promise<void> {
    let runs = 0;
    while (spec.once ? runs++ === 0 : performance.now() < deadline) {
      try {
        const times = await oneStream(spec);
        if (times.length !== spec.expectedEvents) {
          throw new Error(`got ${times.length} events, expected ${spec.expectedEvents}`);
        }
        ttfc.push(times[0] ?? 0);
        for (let i = 1; i < times.length; i++) gaps.push((times[i] ?? 0) - (times[i - 1] ?? 0));
        totals.push(times.at(-1) ?? 0);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, () => worker()));
  return {
    streams: ttfc.length,
    errors,
    firstError,
    ttfcP50Ms: percentile(ttfc, 50),
    ttfcP99Ms: percentile(ttfc, 99),
    gapP50Ms: percentile(gaps, 50),
    gapP99Ms: percentile(gaps, 99),
    gapMaxMs: gaps.length ? Math.max(...gaps) : 0,
    totalP50Ms: percentile(totals, 50),
  };
}

/**
 * Nearest-rank percentile.
 * @param values Samples (sorted in place).
 * @param p Percentile, 0-100.
 * @returns The value, or 0 for no samples.
 */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * values.length) - 1;
  return values[Math.min(values.length - 1, Math.max(0, rank))] ?? 0;
}

/** Sends one request and returns the arrival time (ms since sending) of each SSE event. */
async function oneStream(spec: StreamSpec): Promise<number[]> {
  const started = performance.now();
  const response = await fetch(spec.url, {
    method: "POST",
    headers: spec.headers,
    body: spec.body,
  });
  if (response.status !== 200 || !response.body) {
    const text = await response.text();
    throw new Error(`status ${response.status}: ${text.slice(0, 200)}`);
  }
  const times: number[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body) {
    const now = performance.now() - started;
    buffer += decoder.decode(chunk, { stream: true });
    // Events end with a blank line; Google's SSE uses CRLF, OpenAI's LF.
    let end: RegExpExecArray | null;
    while ((end = /\r?\n\r?\n/.exec(buffer)) !== null) {
      const event = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      // OpenAI's closing `[DONE]` is a terminator, not a content chunk.
      if (event.startsWith("data:") && !event.startsWith("data: [DONE]")) times.push(now);
    }
  }
  return times;
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "{}") as StreamSpec;
  const result = await measureStreams(spec);
  console.log(`STREAM_JSON ${JSON.stringify(result)}`);
}
