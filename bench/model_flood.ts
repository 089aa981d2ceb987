/**
 * A load client for the invented-models phase: sends `count` generateContent requests, `concurrency`
 * at a time, alternating the native path (model in the path) and the OpenAI path (model in the
 * body). With a `prefix`, each request names a model no other request names (`<prefix>-<n>`, all
 * well-formed model ids); without one, every request names `model`.
 *
 * Run as its own process by the harness (`deno run --allow-net=127.0.0.1 bench/model_flood.ts
 * '<json spec>'`), it prints one line `FLOOD_JSON {...}` with a {@linkcode FloodResult}.
 * @module
 */

/** What to send. */
export interface FloodSpec {
  /** Proxy base URL on 127.0.0.1. */
  base: string;
  /** Proxy token. */
  token: string;
  /** Requests to send. */
  count: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Prefix of the distinct model names, or null to send `model` every time. */
  prefix: string | null;
  /** The model of every request when `prefix` is null. */
  model: string;
}

/** What the client saw. */
export interface FloodResult {
  /** Requests sent. */
  sent: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Requests that got no response. */
  failed: number;
  /** First connection error, for the report. */
  firstError: string | null;
  /** Wall time, ms. */
  elapsedMs: number;
  /** Requests per second. */
  rps: number;
}

/**
 * Sends the load.
 * @param spec Target, count and names.
 * @returns Counts by status and the rate.
 */
export async function flood(spec: FloodSpec): Promise<FloodResult> {
  const result: FloodResult = {
    sent: 0,
    statuses: {},
    failed: 0,
    firstError: null,
    elapsedMs: 0,
    rps: 0,
  };
  const started = performance.now();
  const worker = async () => {
    while (result.sent < spec.count) {
      const i = result.sent++;
      const model = spec.prefix === null ? spec.model : `${spec.prefix}-${i}`;
      try {
        const response = await send(spec, model, i % 2 === 0);
        await response.arrayBuffer();
        result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
      } catch (error) {
        result.failed++;
        result.firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  result.elapsedMs = performance.now() - started;
  result.rps = result.sent / (result.elapsedMs / 1000);
  return result;
}

function send(spec: FloodSpec, model: string, native: boolean): Promise<Response> {
  if (native) {
    return fetch(`${spec.base}/v1beta/models/${model}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": spec.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hello" }] }] }),
    });
  }
  return fetch(`${spec.base}/v1beta/openai/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${spec.token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: `models/${model}`, messages: [{ role: "user", content: "hi" }] }),
  });
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "{}") as FloodSpec;
  console.log(`FLOOD_JSON ${JSON.stringify(await flood(spec))}`);
}
