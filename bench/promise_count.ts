/**
 * Promises a server creates per request: the server runs in this process with V8's promise hook
 * counting every promise made while wrk drives it (native route, 0 ms fake upstream), and one in
 * `SAMPLE` records where it was made. Each promise is an allocation, and each `await` or `then`
 * on one a job through the microtask queue, which the CPU profile charges to the runtime's native
 * code. Prints one JSON line; `bench/profile.ts` renders it.
 *
 * Usage: `deno run -A --unstable-kv bench/promise_count.ts <bare|ours> <upstream url> <kv path>`
 * @module
 */
import { ROOT } from "./_process.ts";
import { buildRequest, productionEnv } from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** What one run found. */
export interface PromiseCount {
  requests: number;
  promises: number;
  /** Promises per request by the place that made them (innermost frames), largest first. */
  sites: { site: string; perRequest: number }[];
}

/** One promise in this many has its stack recorded. */
const SAMPLE = 31;
const SECONDS = 5;

/** The runtime's promise hooks (`Deno.core`), not part of Deno's public API. */
interface PromiseHooks {
  setPromiseHooks(init?: (promise: Promise<unknown>) => void): void;
}

/** The runtime's internal core, where its promise hooks are. */
function runtimeCore(): PromiseHooks {
  const internal = (Deno as unknown as { internal: symbol }).internal;
  const core = (Deno as unknown as Record<symbol, { core?: PromiseHooks }>)[internal]?.core;
  if (!core?.setPromiseHooks) throw new Error("this Deno has no promise hooks");
  return core;
}

/** Where a promise was made: the first frames of a stack, files relative to the root. */
function siteOf(stack: string): string {
  return stack.split("\n").slice(3, 5).map((line) =>
    line.trim().replace(/^at /, "").replace(`file://${ROOT}/`, "").replace(/\(ext:/, "(")
      .replace(/:\d+:\d+\)/, ")")
  ).join(" < ");
}

/** Starts the server in this process; resolves to its URL. */
async function start(kind: string, upstreamUrl: string, kvPath: string): Promise<string> {
  if (kind === "bare") {
    // The same handler as `bench/bare_proxy.ts`.
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const url = new URL(request.url);
      const init = { method: request.method, headers: request.headers, body: request.body };
      return fetch(upstreamUrl + url.pathname + url.search, init);
    });
    return `http://127.0.0.1:${server.addr.port}`;
  }
  const { startServer } = await import("../adapters/deno/server.ts");
  let url = "";
  await startServer(productionEnv({ upstreamUrl, kvPath }), {
    onListen: (addr) => url = `http://127.0.0.1:${(addr as Deno.NetAddr).port}`,
  });
  return url;
}

if (import.meta.main) {
  const [kind, upstreamUrl, kvPath] = Deno.args;
  if ((kind !== "bare" && kind !== "ours") || !upstreamUrl || !kvPath) {
    throw new Error("Usage: promise_count.ts <bare|ours> <upstream url> <kv path>");
  }
  const url = await start(kind, upstreamUrl, kvPath);
  const request = buildRequest({ kind, url, upstreamUrl }, "native", false);
  await runWrk(request, { connections: 8, seconds: 2 });
  let counting = false;
  let promises = 0;
  const sampled = new Map<string, number>();
  runtimeCore().setPromiseHooks(() => {
    if (!counting) return;
    if (++promises % SAMPLE !== 0) return;
    const site = siteOf(new Error().stack ?? "");
    sampled.set(site, (sampled.get(site) ?? 0) + 1);
  });
  counting = true;
  const { requests } = await runWrk(request, { connections: 8, seconds: SECONDS });
  counting = false;
  const sites = [...sampled].map(([site, n]) => ({ site, perRequest: (n * SAMPLE) / requests }))
    .sort((a, b) => b.perRequest - a.perRequest);
  console.log(JSON.stringify({ requests, promises, sites } satisfies PromiseCount));
  Deno.exit(0);
}
