/**
 * The floor with the runtime work the product cannot skip: the bare passthrough
 * (`bench/bare_proxy.ts`), plus what Gemini Proxy must ask of the runtime for every request,
 * and none of its logic (no tokens, keys, limits, failover, usage or metrics):
 *
 * - the request body read whole (to replay it on another key) and sent as bytes;
 * - the upstream headers rebuilt as a list, the client's credential swapped for a key;
 * - an abort link from the client's request to the upstream call, and a timeout;
 * - the answer read whole, decoded to text (where usage is read), and sent as a new response;
 * - one log record per request, queued and written to Deno KV as packed pages every 250 ms.
 *
 * Its cost per request over the bare passthrough's is the runtime's price for those features;
 * Gemini Proxy's cost over this one's is its own code (`bench/profile.ts` reports the three).
 * Env: UPSTREAM_URL, KV_PATH, PORT (0 picks one). Prints `FLOOR_PROXY_PORT=<port>`.
 * @module
 */
const upstream = Deno.env.get("UPSTREAM_URL") ?? "http://127.0.0.1:8080";
const port = Number(Deno.env.get("PORT") ?? "0");
const kv = await Deno.openKv(Deno.env.get("KV_PATH") ?? await Deno.makeTempFile());
const decoder = new TextDecoder();
let queued: string[] = [];
let pages = 0;

setInterval(async () => {
  if (queued.length === 0) return;
  const records = queued;
  queued = [];
  const op = kv.atomic();
  for (let i = 0; i < records.length; i += 200) {
    op.set(["logp", String(++pages).padStart(12, "0")], {
      n: Math.min(200, records.length - i),
      json: `[${records.slice(i, i + 200).join(",")}]`,
    });
  }
  await op.commit();
}, 250);

const onListen = (addr: Deno.NetAddr) => console.log(`FLOOR_PROXY_PORT=${addr.port}`);

Deno.serve({ hostname: "127.0.0.1", port, onListen }, async function floorProxy(request) {
  const started = Date.now();
  const url = new URL(request.url);
  const body = request.body ? await request.bytes() : null;
  const headers: [string, string][] = [];
  request.headers.forEach((value, name) => {
    if (name !== "x-goog-api-key" && name !== "host" && name !== "content-length") {
      headers.push([name, value]);
    }
  });
  headers.push(["x-goog-api-key", "AIzaFAKE-FLOOR-KEY"]);
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  request.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => abort.abort(), 300_000);
  let answer: Response;
  try {
    answer = await fetch(upstream + url.pathname + url.search, {
      method: request.method,
      headers,
      body,
      signal: abort.signal,
    });
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onAbort);
  }
  const bytes = await answer.bytes();
  const text = decoder.decode(bytes);
  const back: [string, string][] = [];
  answer.headers.forEach((value, name) => back.push([name, value]));
  queued.push(JSON.stringify({
    time: started,
    path: url.pathname,
    status: answer.status,
    bytesOut: bytes.byteLength,
    durationMs: Date.now() - started,
    usage: text.length,
  }));
  return new Response(bytes, { status: answer.status, headers: back });
});
