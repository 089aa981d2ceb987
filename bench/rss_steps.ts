/**
 * What Gemini Proxy's resident memory at start-up is made of: one fresh Deno process loads the
 * proxy's parts one after another and prints its RSS and JavaScript heap after each, as JSON
 * lines (`bench/_rss.ts` runs it and renders the table). Each step adds to the ones before.
 *
 * Usage: `deno run -A --unstable-kv --v8-flags=--expose-gc bench/rss_steps.ts <upstream url> <kv path>`
 * @module
 */
import { productionEnv } from "./_targets.ts";

/** One step's figures. */
export interface RssStep {
  step: string;
  rssBytes: number;
  heapBytes: number;
}

/** The steps, in order: each a name and what it loads. */
export const STEPS: [string, (args: { upstreamUrl: string; kvPath: string }) => Promise<void>][] = [
  ["Deno, nothing loaded", () => Promise.resolve()],
  ["+ `Deno.serve` listening (all the bare passthrough loads)", async () => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("ok"),
    );
    await fetch(`http://127.0.0.1:${server.addr.port}/`).then((r) => r.text());
    await server.shutdown();
  }],
  ["+ zod, a schema parsed", async () => {
    const { z } = await import("zod");
    z.object({ a: z.string(), b: z.number().optional() }).parse({ a: "x" });
  }],
  ["+ hono, one request routed", async () => {
    const { Hono } = await import("hono");
    const app = new Hono().get("/", (c) => c.text("ok"));
    await (await app.request("/")).text();
  }],
  ["+ preact and its string renderer, one element rendered", async () => {
    const { h } = await import("preact");
    const { render } = await import("preact-render-to-string");
    render(h("p", null, "ok"));
  }],
  ["+ the rest of Gemini Proxy's modules imported", async () => {
    await import("../adapters/deno/server.ts");
  }],
  ["+ Gemini Proxy started (production environment, 20 keys, Deno KV)", async (args) => {
    const { startServer } = await import("../adapters/deno/server.ts");
    await startServer(productionEnv(args), { onListen() {} });
  }],
];

if (import.meta.main) {
  const [upstreamUrl, kvPath] = Deno.args;
  if (!upstreamUrl || !kvPath) throw new Error("Usage: rss_steps.ts <upstream url> <kv path>");
  for (const [step, load] of STEPS) {
    await load({ upstreamUrl, kvPath });
    // A full collection first, so the heap figure is what the step keeps.
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = Deno.memoryUsage();
    console.log(JSON.stringify({ step, rssBytes: rss, heapBytes: heapUsed } satisfies RssStep));
  }
  Deno.exit(0);
}
