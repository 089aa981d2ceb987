/**
 * Where the proxy's CPU goes on the hot path: Gemini Proxy with the benchmark's production
 * environment (`productionEnv`: STORE=kv, request logs, aggregates, metrics, admin console all
 * on) under wrk at 32 connections against the 0 ms fake upstream, with V8's sampling profiler
 * (`--v8-flags=--prof`; this Deno has no `--cpu-prof`). Each sample is charged to the innermost
 * frame of our own code on its stack (a file of `core/`, `adapters/`, ...), else to the npm
 * package or runtime module it is in, else to the runtime's native code (Rust: the HTTP server,
 * fetch, Deno KV's SQLite, V8's garbage collector).
 *
 *   deno run -A --unstable-kv bench/profile.ts            # prints the table
 *   deno run -A --unstable-kv bench/profile.ts --write    # also replaces it in BENCH.md
 *
 * Needs wrk (as `deno task bench`) and Node.js for `node --prof-process`.
 * @module
 */
import { benchShape, startUpstream } from "./_servers.ts";
import { ROOT, spawnServer } from "./_process.ts";
import {
  allocatedKb,
  type Allocations,
  mb,
  measureAllocations,
  renderAllocations,
} from "./_alloc.ts";
import {
  CONNECTIONS,
  type Cost,
  COST_LABELS,
  type CostTarget,
  MANY_KEYS,
  measureCosts,
  renderCosts,
  VARIANTS,
} from "./_costs.ts";
import { type FirstChunk, measureFirstChunk, renderFirstChunk } from "./_first_chunk.ts";
import { measurePromises, type PromiseCounts, renderPromises } from "./_promises.ts";
import { grownSites, renderReading } from "./_reading.ts";
import { measureRssSteps, renderRssSteps } from "./_rss.ts";
import {
  type LoadMemory,
  measureHeldMemory,
  measureLoadMemory,
  renderLoadMemory,
} from "./_rss_load.ts";
import type { RssStep } from "./rss_steps.ts";
import { writeMarkedSection } from "./_sections.ts";
import { buildRequest, productionEnv } from "./_targets.ts";
import { ensureWrk, runWrk } from "./_wrk.ts";

const START = "<!-- profile:start -->";
const END = "<!-- profile:end -->";
const SECONDS = 15;

/** Ticks charged to one place. */
interface Share {
  place: string;
  ticks: number;
}

/** The preprocessed profile `node --prof-process --preprocess` writes. */
interface Preprocessed {
  code: ({ name: string } | null)[];
  /** `vm` is V8's state when the sample was taken (1: garbage collection; 2-4: parsing, compiling). */
  ticks: { s: number[]; vm: number }[];
}

/**
 * Where one sample is charged: the innermost frame of our code, else of an npm package or a
 * runtime module, else native code.
 * @param stack The sample's frames, innermost first, as code names.
 * @returns A place name.
 */
export function placeOf(stack: string[]): string {
  let outside: string | null = null;
  for (const name of stack) {
    const file = /file:\/\/\/[^:\s]+/.exec(name)?.[0];
    if (file) {
      const npm = /\/npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(file) ??
        /\/node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(file);
      if (npm) {
        outside ??= `npm: ${npm[1]}`;
        continue;
      }
      const path = file.slice(file.indexOf(ROOT) >= 0 ? file.indexOf(ROOT) + ROOT.length + 1 : 8);
      const parts = path.split("/");
      return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : path;
    }
    const ext = /ext:([a-z_]+)\//.exec(name)?.[1];
    if (ext) outside ??= `runtime JS: ${ext}`;
  }
  return outside ?? "runtime native code (no JS frame: Rust, V8 C++, libc)";
}

/**
 * Sums a preprocessed profile by place.
 * @param profile `node --prof-process --preprocess` output.
 * @returns Places, most ticks first, and the total.
 */
export function sharesOf(profile: Preprocessed): { shares: Share[]; total: number } {
  const by = new Map<string, number>();
  for (const tick of profile.ticks) {
    const names: string[] = [];
    for (let i = 0; i < tick.s.length; i += 2) {
      const code = profile.code[tick.s[i]!];
      if (code) names.push(code.name);
    }
    const place = tick.vm === 1
      ? "V8 garbage collector"
      : tick.vm >= 2 && tick.vm <= 4
      ? "V8 parser and compilers"
      : placeOf(names);
    by.set(place, (by.get(place) ?? 0) + 1);
  }
  const shares = [...by].map(([place, ticks]) => ({ place, ticks }))
    .sort((a, b) => b.ticks - a.ticks);
  return { shares, total: profile.ticks.length };
}

/** One profiled server: its samples and the requests it served meanwhile. */
interface Profiled {
  profile: Preprocessed;
  requests: number;
  rps: number;
}

/**
 * Runs a server under load with the profiler on.
 * @param kind The bare passthrough or Gemini Proxy.
 * @param upstreamUrl The 0 ms fake upstream.
 * @param dir Where the profile and the KV file go.
 * @returns Its samples and the requests served while they were taken.
 */
export async function profileServer(
  kind: "bare" | "ours",
  upstreamUrl: string,
  dir: string,
): Promise<Profiled> {
  const log = `${dir}/${kind}.log`;
  const prof = `--v8-flags=--prof,--logfile=${log},--no-logfile-per-isolate`;
  const server = await spawnServer(
    kind === "bare"
      ? {
        name: "bare Deno proxy (profiled)",
        cmd: Deno.execPath(),
        args: ["run", prof, "--allow-net=127.0.0.1", "--allow-env", "bench/bare_proxy.ts"],
        env: { UPSTREAM_URL: upstreamUrl, PORT: "0" },
        portPattern: /BARE_PROXY_PORT=(\d+)/,
      }
      : {
        name: "Gemini Proxy (profiled)",
        cmd: Deno.execPath(),
        args: ["run", prof, "-A", "--unstable-kv", "main.ts"],
        env: productionEnv({ upstreamUrl, kvPath: `${dir}/proxy.kv` }),
        portPattern: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
        readyTimeoutMs: 180_000,
      },
  );
  try {
    const request = buildRequest({ kind, url: server.url, upstreamUrl }, "native", false);
    const warm = await runWrk(request, { connections: CONNECTIONS, seconds: 2 });
    const result = await runWrk(request, { connections: CONNECTIONS, seconds: SECONDS });
    await server.stop();
    return {
      profile: await preprocess(log),
      requests: warm.requests + result.requests,
      rps: result.rps,
    };
  } finally {
    await server.stop();
  }
}

/** `node --prof-process --preprocess` of a V8 log. */
async function preprocess(log: string): Promise<Preprocessed> {
  const out = await new Deno.Command("node", {
    args: ["--prof-process", "--preprocess", log],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`node --prof-process failed on ${log}`);
  // Node prints a version warning line before the JSON when V8's versions differ.
  const text = new TextDecoder().decode(out.stdout);
  return JSON.parse(text.slice(text.indexOf("{")));
}

/** Samples per 1,000 requests, by place, for both servers. */
interface Row {
  place: string;
  bare: number;
  ours: number;
}

/** Rows of the comparison, the places where the proxy spends most first. */
function compare(bare: Profiled, ours: Profiled): Row[] {
  const per = (p: Profiled) => {
    const { shares } = sharesOf(p.profile);
    return new Map(shares.map((s) => [s.place, (1000 * s.ticks) / p.requests]));
  };
  const b = per(bare);
  const o = per(ours);
  const places = new Set([...b.keys(), ...o.keys()]);
  return [...places].map((place) => ({ place, bare: b.get(place) ?? 0, ours: o.get(place) ?? 0 }))
    .sort((x, y) => y.ours - x.ours);
}

/**
 * Gemini Proxy with one thing changed against its production environment: CPU (from the
 * interleaved rounds) and memory per request on the native route.
 */
export function renderVariants(costs: Cost[], allocs: Map<CostTarget, Allocations>): string[] {
  const cpu = (t: CostTarget) => costs.find((c) => c.route === "native" && c.target === t)!.cpuUs;
  const base = { cpu: cpu("ours"), kb: allocatedKb(allocs.get("ours")!) };
  const many = MANY_KEYS.toLocaleString("en-US");
  const signed = (n: number, digits: number) => `${n >= 0 ? "+" : ""}${n.toFixed(digits)}`;
  const row = (t: CostTarget) => {
    const a = allocs.get(t)!;
    const c = cpu(t);
    const [dc, dk] = [c - base.cpu, allocatedKb(a) - base.kb];
    const pct = (100 * dc) / base.cpu;
    const change = t === "ours" ? "- | " : `${signed(dc, 0)} µs (${signed(pct, 0)}%) | `;
    return `| ${COST_LABELS[t]} | ${c.toFixed(0)} µs | ${change}${allocatedKb(a).toFixed(1)} KB | ${
      t === "ours" ? "-" : `${signed(dk, 1)} KB`
    } | ${mb(a.liveBytes)} MB |`;
  };
  return [
    "### Gemini Proxy with one thing changed",
    "",
    "The same measurements, native route, for Gemini Proxy with one change to its production",
    "environment each: its CPU per request from the interleaved rounds above, and its memory",
    "allocated per request and live heap as in the table above. On this machine throughput",
    "follows CPU per request, so the key-pool row is the scaling target's gap in CPU terms,",
    "and the in-memory row shows what Deno KV (request log pages, counters, leases) costs.",
    "",
    "| server | CPU per request | change | allocated per request | change | live heap after the load |",
    "|---|---|---|---|---|---|",
    ...(["ours", ...VARIANTS] as const).map(row),
    "",
    `Where ${many} keys allocate more per request: the allocation sites whose bytes per request`,
    "grew most, against the production environment's.",
    "",
    `| site | production environment | ${many} keys | more per request |`,
    "|---|---|---|---|",
    ...grownSiteRows(allocs.get("ours")!, allocs.get("keys")!, 8),
    "",
  ];
}

/** Table rows of the sites whose bytes per request grew most from `base` to `other`. */
function grownSiteRows(base: Allocations, other: Allocations, count: number): string[] {
  const per = (a: Allocations, site: string) => (a.bySite.get(site) ?? 0) / a.requests / 1000;
  return grownSites(base, other, count).map((site) => {
    const [from, to] = [per(base, site), per(other, site)];
    return `| \`${site}\` | ${from.toFixed(2)} KB | ${to.toFixed(2)} KB | +${
      (to - from).toFixed(2)
    } KB |`;
  });
}

/** The report section. */
function render(
  rows: Row[],
  runs: {
    bare: Profiled;
    ours: Profiled;
    costs: Cost[];
    allocations: Map<CostTarget, Allocations>;
    rss: RssStep[];
    loadMemory: LoadMemory[];
    heldMemory: LoadMemory[];
    promises: PromiseCounts;
    firstChunk: FirstChunk[];
  },
  command: string,
): string {
  const f = (n: number) => n.toFixed(1);
  const shown = rows.slice(0, 14);
  const rest = rows.slice(14);
  const sum = (list: Row[], k: "bare" | "ours") => list.reduce((s, r) => s + r[k], 0);
  const lines = shown.map((r) =>
    `| ${r.place} | ${f(r.bare)} | ${f(r.ours)} | ${f(r.ours - r.bare)} |`
  );
  if (rest.length > 0) {
    const b = sum(rest, "bare");
    const o = sum(rest, "ours");
    lines.push(`| ${rest.length} other places | ${f(b)} | ${f(o)} | ${f(o - b)} |`);
  }
  const tb = sum(rows, "bare");
  const to = sum(rows, "ours");
  lines.push(`| **all** | **${f(tb)}** | **${f(to)}** | **${f(to - tb)}** |`);
  const rps = (p: Profiled) => Math.round(p.rps).toLocaleString("en-US");
  return [
    START,
    "",
    "## Where the proxy's time goes",
    "",
    ...renderReading({ ...runs, samples: rows }),
    ...renderCosts(runs.costs),
    ...renderAllocations(runs.allocations),
    ...renderVariants(runs.costs, runs.allocations),
    ...renderRssSteps(runs.rss),
    ...renderLoadMemory(runs.loadMemory, runs.heldMemory),
    "### Samples by place",
    "",
    `Measured by \`${command}\` on ${new Date().toISOString()}: the bare passthrough and Gemini`,
    `Proxy with the production environment, one after the other, each under wrk at ${CONNECTIONS}`,
    `connections for ${SECONDS} s (after 2 s of warm-up) against the 0 ms fake upstream, with V8's`,
    `sampling profiler on (${rps(runs.bare)} and ${rps(runs.ours)} req/s while sampled). Figures`,
    "are samples per 1,000 requests served, warm-up and start-up included: CPU time on the",
    "server's main thread. A sample counts for the innermost frame of our code on its stack (a",
    "folder of `core/`, `adapters/`), else for the npm package or runtime module it is in, else for",
    "the runtime's native code (Deno's HTTP server and fetch in Rust, the event loop, and V8's own",
    "C++ runtime, which the stripped binary links in: allocation, inline-cache misses, promise",
    "and microtask machinery that our JavaScript sets off), with V8's garbage collector and",
    "compilers apart. Work the runtime finishes for us after an `await` (fetch reading a body, the",
    "HTTP server writing one) carries no frame of ours and counts for the runtime.",
    "",
    "| charged to | bare passthrough | Gemini Proxy | difference |",
    "|---|---|---|---|",
    ...lines,
    "",
    ...renderPromises(runs.promises),
    ...renderFirstChunk(runs.firstChunk),
    END,
  ].join("\n");
}

if (import.meta.main) {
  await ensureWrk();
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-profile-" });
  const upstream = await startUpstream(benchShape(0));
  try {
    const costs = await measureCosts(upstream, dir);
    const allocations = await measureAllocations(upstream, dir);
    const rss = await measureRssSteps(upstream.url, dir);
    const loadMemory = await measureLoadMemory(upstream, dir);
    const heldMemory = await measureHeldMemory(dir);
    const promises = await measurePromises(upstream.url, dir);
    const firstChunk = await measureFirstChunk(upstream, dir);
    const bare = await profileServer("bare", upstream.url, dir);
    const ours = await profileServer("ours", upstream.url, dir);
    const command = "deno run -A --unstable-kv bench/profile.ts --write";
    const section = render(
      compare(bare, ours),
      { bare, ours, costs, allocations, rss, loadMemory, heldMemory, promises, firstChunk },
      command,
    );
    console.log(section);
    if (Deno.args.includes("--write")) {
      const path = `${ROOT}/BENCH.md`;
      await writeMarkedSection(path, "profile", section);
      await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] }).output();
      console.log(`\nwrote ${path}`);
    }
  } finally {
    await upstream.stop();
    if (!Deno.args.includes("--keep")) await Deno.remove(dir, { recursive: true }).catch(() => {});
    else console.log(`kept ${dir}`);
  }
}
