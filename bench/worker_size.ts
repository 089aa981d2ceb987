/**
 * The Cloudflare Worker's bundle size and cold start, measured in real workerd.
 *
 *   deno run -A bench/worker_size.ts           # prints the section
 *   deno run -A bench/worker_size.ts --write   # also replaces it in BENCH.md
 *
 * Size: `deno task build:worker`'s bundle, raw and gzipped (Cloudflare's limits count the
 * gzipped size). Cold start, over several fresh workerd processes: time until workerd accepts
 * requests (runtime start, module parse), then the first request (builds the app: config, key
 * encryption, store), then the first proxied generateContent against the local fake upstream, then
 * a warm one.
 * @module
 */
import { buildWorker } from "../adapters/cloudflare/build.ts";
import { startWorker } from "../adapters/cloudflare/_workerd.ts";
import { startFakeUpstream } from "../tests/support/fake_upstream/mod.ts";

const RUNS = 7;
const START = "<!-- worker-size:start -->";
const END = "<!-- worker-size:end -->";
const TOKEN = "gp-bench-worker-token-0001";

const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-worker-bench-" });
const build = await buildWorker({ outFile: `${dir}/worker.mjs` });
const fake = await startFakeUpstream({ gzip: false });
const samples = {
  ready: [] as number[],
  first: [] as number[],
  proxied: [] as number[],
  warm: [] as number[],
};
try {
  for (let i = 0; i < RUNS; i++) {
    const worker = await startWorker({
      bindings: {
        SECRET_KEY: "bench-secret-key-0123456789",
        UPSTREAM_URL: fake.url,
        GEMINI_API_KEYS: Array.from(
          { length: 20 },
          (_, k) => `AIzaFAKE-BENCH-key-${String(k).padStart(20, "0")}`,
        ).join(","),
        PROXY_TOKENS: TOKEN,
        LOG_LEVEL: "warn",
      },
    });
    try {
      samples.ready.push(worker.readyMs);
      samples.first.push(await timed(() => fetch(`${worker.url}/healthz`)));
      samples.proxied.push(await timed(() => generate(worker.url)));
      samples.warm.push(await timed(() => generate(worker.url)));
    } finally {
      await worker.close();
    }
  }
} finally {
  await fake.close();
  await Deno.remove(dir, { recursive: true });
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (values: number[]) => `${median(values).toFixed(0)} ms`;
const section = [
  START,
  "",
  "## Cloudflare Worker: bundle size and cold start",
  "",
  `Measured by \`deno run -A bench/worker_size.ts --write\` on ${new Date().toISOString()}`,
  `(Deno ${Deno.version.deno}; workerd from npm \`miniflare\`), medians of ${RUNS} fresh workerd`,
  "processes.",
  "",
  ...table(["what", "figure"], [
    ["`deno task build:worker` bundle, raw", kib(build.bytes)],
    ["same, gzipped (target under 150 KB)", kib(build.gzipBytes)],
    ["workerd start until it accepts requests", ms(samples.ready)],
    ["first request (`/healthz`: builds the app, 20 keys encrypted)", ms(samples.first)],
    ["first proxied generateContent (fake upstream on 127.0.0.1)", ms(samples.proxied)],
    ["next generateContent (warm isolate)", ms(samples.warm)],
  ]),
  "",
  "The Worker bundle leaves out the admin console's pages (they run on a Deno deployment sharing",
  "the store) and uses PostgREST alone from supabase-js.",
  "",
  END,
].join("\n");
console.log(section);

if (Deno.args.includes("--write")) {
  const path = new URL("../BENCH.md", import.meta.url);
  const current = await Deno.readTextFile(path).catch(() => "# Benchmarks\n");
  const formatted = await formatMarkdown(section);
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + formatted.trimEnd() + current.slice(end + END.length)
    : `${current.trimEnd()}\n\n${formatted}`;
  await Deno.writeTextFile(path, next);
  console.log(`\nwrote ${path.pathname}`);
}

async function timed(request: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const response = await request();
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`status ${response.status}`);
  return performance.now() - started;
}

function generate(base: string): Promise<Response> {
  return fetch(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "cold start" }] }] }),
  });
}

/** Formats Markdown with `deno fmt` at the project's line width. */
async function formatMarkdown(text: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".md" });
  try {
    await Deno.writeTextFile(file, text);
    const { success } = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", "--no-config", "--line-width", "100", file],
    }).output();
    return success ? await Deno.readTextFile(file) : text;
  } finally {
    await Deno.remove(file);
  }
}

/** A Markdown table padded as `deno fmt` pads it, so the section stays format-clean. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
