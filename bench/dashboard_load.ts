/**
 * The admin dashboard's first load to interactive, on localhost, with 100,000 request logs in a
 * Deno KV store (measured, not asserted; not part of `deno task test`).
 *
 * `deno run -A --unstable-kv bench/dashboard_load.ts [--records=100000] [--runs=7] [--kv=path]`
 * (`--kv` keeps the seeded file at that path and reuses it on the next run).
 *
 * It builds the console, seeds the records (spread over the last 30 days, with their aggregate
 * counters, through `store.insertLogs` as the proxy writes them), starts the proxy on that KV file,
 * logs in with headless Chromium, then loads `/admin` in a fresh browser context each run (cold
 * HTTP cache) and reads, from the page's own clock: time to the HTML's first byte, DOMContentLoaded,
 * and the `gp:hydrated` mark the dashboard island sets once its charts are drawn and it responds
 * to input. A few warm runs (assets cached) follow.
 * @module
 */
import { buildConsole } from "../adapters/_shared/console_build.ts";
import { createKvStore } from "../core/store/kv/mod.ts";
import { startServer } from "../adapters/deno/server.ts";
import { coalesce, deltasOf } from "../core/logs/deltas.ts";
import { type LogRecord, requestId } from "../core/store/log_record.ts";
import { launchChromium } from "../tests/support/browser.ts";
import { fakeKeys } from "../tests/support/harness.ts";

const RECORDS = Number(flag("records") ?? 100_000);
const RUNS = Number(flag("runs") ?? 7);
const PASSWORD = "bench-admin-password";
const MODELS = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-lite",
  "text-embedding-004",
];

function flag(name: string): string | undefined {
  return Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
}

function record(i: number, now: number, keys: string[]): LogRecord {
  const time = now - Math.floor(((i * 7919) % RECORDS) / RECORDS * 30 * 86_400_000);
  const status = i % 53 === 0 ? 429 : i % 97 === 0 ? 503 : 200;
  const model = MODELS[i % MODELS.length]!;
  const keyIndex = i % keys.length;
  const prompt = 20 + (i % 400);
  const candidates = 50 + (i % 700);
  return {
    id: requestId(time),
    time,
    httpMethod: "POST",
    path: `/v1beta/models/${model}:generateContent`,
    tokenId: `t_bench${i % 5}`,
    tokenName: `bench app ${i % 5}`,
    model,
    method: "generateContent",
    flavour: "native",
    stream: i % 3 === 0,
    status,
    errorClass: status === 200 ? null : status === 429 ? "quota" : "server",
    attempts: [{
      keyId: `k_${keyIndex}`,
      keyMasked: `AIza...${String(keyIndex).padStart(4, "0")}`,
      status,
      errorClass: status === 200 ? null : "quota",
      durationMs: 200 + (i % 900),
    }],
    keyId: `k_${keyIndex}`,
    keyMasked: `AIza...${String(keyIndex).padStart(4, "0")}`,
    ttfbMs: 180 + (i % 800),
    durationMs: 250 + (i % 2500),
    bytesIn: 300,
    bytesOut: 2000,
    usage: status === 200
      ? {
        prompt,
        candidates,
        thoughts: 0,
        cached: 0,
        toolUse: 0,
        total: prompt + candidates,
      }
      : null,
    finishReason: status === 200 ? "STOP" : null,
    truncated: false,
    region: null,
    userAgent: "bench",
  };
}

async function seed(kvPath: string): Promise<number> {
  const store = createKvStore(await Deno.openKv(kvPath));
  const started = performance.now();
  const now = Date.now();
  const keys = fakeKeys(20);
  const batch = 1000;
  for (let i = 0; i < RECORDS; i += batch) {
    const records = Array.from(
      { length: Math.min(batch, RECORDS - i) },
      (_, j) => record(i + j, now, keys),
    );
    await store.insertLogs(records, coalesce(records.flatMap(deltasOf)), 31 * 86_400_000);
  }
  await store.close();
  return performance.now() - started;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(0)} ms (min ${sorted[0]!.toFixed(0)}, max ${
    sorted.at(-1)!.toFixed(0)
  })`;
}

if (import.meta.main) {
  const build = await buildConsole();
  const kept = flag("kv");
  const dir = kept ? null : await Deno.makeTempDir({ prefix: "gemini-proxy-dashboard-bench-" });
  const kvPath = kept ?? `${dir}/bench.kv`;
  if (kept && await Deno.stat(kvPath).then(() => true, () => false)) {
    console.log(`Reusing the request logs seeded in ${kvPath}`);
  } else {
    console.log(`Seeding ${RECORDS.toLocaleString("en")} request logs into ${kvPath} ...`);
    console.log(`  seeded in ${((await seed(kvPath)) / 1000).toFixed(1)} s`);
  }
  const server = await startServer({
    PORT: "0",
    KV_PATH: kvPath,
    SECRET_KEY: "bench-secret-key-0123456789",
    ADMIN_PASSWORD: PASSWORD,
    GEMINI_API_KEYS: fakeKeys(20).join(","),
    UPSTREAM_URL: "http://127.0.0.1:9",
    LOG_LEVEL: "error",
  });
  const api = async (path: string) => {
    const t = performance.now();
    const r = await fetch(`${server.url}/admin/api${path}`, {
      headers: { authorization: `Bearer ${PASSWORD}` },
    });
    await r.arrayBuffer();
    return performance.now() - t;
  };
  for (const path of ["/stats?range=24h", "/stats?range=24h&group=model", "/keys"]) {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(await api(path));
    console.log(`  GET /admin/api${path}: ${summary(samples)}`);
  }
  const browser = await launchChromium();
  try {
    const login = await browser.newContext();
    const page = await login.newPage();
    await page.goto(`${server.url}/admin/login`);
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/admin`), page.click("button[type=submit]")]);
    const cookies = await login.cookies();
    await login.close();

    const cold = {
      ttfb: [] as number[],
      dcl: [] as number[],
      interactive: [] as number[],
      wall: [] as number[],
    };
    const warm: number[] = [];
    let htmlBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext();
      await context.addCookies(cookies);
      const tab = await context.newPage();
      const t0 = performance.now();
      const response = await tab.goto(`${server.url}/admin?range=24h`);
      await tab.waitForSelector("html[data-hydrated]", { state: "attached" });
      cold.wall.push(performance.now() - t0);
      htmlBytes = (await response?.body())?.length ?? 0;
      const timing = await tab.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        return {
          ttfb: nav.responseStart,
          dcl: nav.domContentLoadedEventEnd,
          interactive: performance.getEntriesByName("gp:hydrated")[0]?.startTime ?? NaN,
        };
      });
      cold.ttfb.push(timing.ttfb);
      cold.dcl.push(timing.dcl);
      cold.interactive.push(timing.interactive);
      if (Deno.args.includes("--detail")) {
        console.log(
          await tab.evaluate(() =>
            JSON.stringify([
              ...performance.getEntriesByType("resource").map((e) => [
                e.name.replace(/^.*\//, ""),
                Math.round((e as PerformanceResourceTiming).startTime),
                Math.round((e as PerformanceResourceTiming).responseEnd),
              ]),
              ...performance.getEntriesByType("mark").map((m) => [m.name, Math.round(m.startTime)]),
              [
                "responseEnd",
                Math.round(
                  (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming)
                    .responseEnd,
                ),
              ],
            ])
          ),
        );
      }
      if (run === RUNS - 1) {
        for (let i = 0; i < 3; i++) {
          await tab.reload();
          await tab.waitForSelector("html[data-hydrated]", { state: "attached" });
          warm.push(
            await tab.evaluate(() =>
              performance.getEntriesByName("gp:hydrated")[0]?.startTime ?? NaN
            ),
          );
        }
      }
      await context.close();
    }
    const islandKb = (name: string) =>
      ((build.files[build.islands[name] ?? ""] ?? 0) / 1024).toFixed(1);
    const chunks = Object.entries(build.files).filter(([f]) => f.startsWith("chunk-"));
    console.log(
      `Dashboard first load with ${RECORDS.toLocaleString("en")} logs, ${RUNS} cold runs:`,
    );
    console.log(`  HTML first byte:        ${summary(cold.ttfb)}`);
    console.log(`  DOMContentLoaded:       ${summary(cold.dcl)}`);
    console.log(`  interactive (hydrated): ${summary(cold.interactive)}`);
    console.log(`  wall clock (Playwright): ${summary(cold.wall)}`);
    console.log(`  warm reloads, hydrated: ${summary(warm)}`);
    console.log(
      `  HTML ${(htmlBytes / 1024).toFixed(1)} KB; dashboard island ${
        islandKb("dashboard")
      } KB + ` +
        `shared chunks ${
          chunks.map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KB`).join(", ")
        } (minified)`,
    );
  } finally {
    await browser.close();
    await server.close();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}
