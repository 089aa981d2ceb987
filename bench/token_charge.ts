/**
 * What proxy-token limits cost on the hot path: a token with limits (rpm, rpd, tpd and a monthly
 * budget, all far above what the run uses) against an unlimited one, on sequential
 * generateContent requests through the Deno server (fake upstream on 127.0.0.1), with each store:
 * - Supabase (`STORE=supabase`): real PostgreSQL behind the test PostgREST shim, with 50 ms added
 *   to every store call, as for a function 50 ms away from its database;
 * - Deno KV (`STORE=kv`): a local file.
 *
 *   deno run -A --unstable-kv bench/token_charge.ts           # prints the section
 *   deno run -A --unstable-kv bench/token_charge.ts --write   # also replaces it in BENCH.md
 *
 * `deno task bench` runs it as its `limits` phase.
 * @module
 */
import { writeMarkedSection } from "./_sections.ts";
import { createKvStore } from "../core/store/kv/mod.ts";
import { startServer } from "../adapters/deno/server.ts";
import { createServiceClient } from "../core/store/supabase/supabase_client.ts";
import { createSupabaseStore } from "../core/store/supabase/supabase_store.ts";
import { sha256Hex } from "../core/secrets/secrets.ts";
import type { Env } from "../core/config/config.ts";
import type { Store } from "../core/store/mod.ts";
import { startFakeUpstream } from "../tests/support/fake_upstream/mod.ts";
import { fakeKeys, SECRET, TOKEN } from "../tests/support/harness.ts";
import { startSupabaseStack } from "../tests/support/supabase_stack.ts";
import { loadAverage } from "./_machine.ts";

const START = "<!-- token-limits:start -->";
const END = "<!-- token-limits:end -->";
/** Milliseconds added to every Supabase store call. */
export const STORE_RTT_MS = 50;
const LIMITED = "gp-BENCH-limited-token-000000001";
const LIMITS = {
  rpm: 1_000_000,
  rpd: 100_000_000,
  tpd: 1_000_000_000_000,
  budgetMicros: 1_000_000_000_000_000,
};

/** Latencies of one token on one store. */
export interface LatencyRow {
  /** `Supabase, 50 ms away` or `Deno KV file`. */
  store: string;
  /** `unlimited` or `rpm + rpd + tpd + budget`. */
  token: string;
  p50: number;
  p90: number;
  p99: number;
  /** Requests measured. */
  n: number;
  /** Lease calls the store served during the measured requests (Supabase only). */
  storeCalls: number | null;
}

/** What {@linkcode benchTokenLimits} measured. */
export interface LimitsBench {
  /** One row per store and token. */
  rows: LatencyRow[];
  /** The machine's load average when the measurement started (null off Linux). */
  loadAtStart: number | null;
}

/** Options of {@linkcode benchTokenLimits}. */
export interface TokenLimitsBenchOptions {
  /** Measured requests per token and store (default 400). */
  requests?: number;
}

/**
 * Runs the measurement on both stores.
 * @param options Request counts.
 * @returns The rows and the load the machine had.
 */
export async function benchTokenLimits(
  options: TokenLimitsBenchOptions = {},
): Promise<LimitsBench> {
  const requests = options.requests ?? 400;
  const loadAtStart = loadAverage();
  const fake = await startFakeUpstream({ gzip: false });
  try {
    const rows = [...await onSupabase(fake.url, requests), ...await onKv(fake.url, requests)];
    return { rows, loadAtStart };
  } finally {
    await fake.close();
  }
}

async function onSupabase(upstream: string, requests: number): Promise<LatencyRow[]> {
  const stack = await startSupabaseStack();
  const project = await stack.createProject({ delayMs: STORE_RTT_MS });
  try {
    await seed(createSupabaseStore(createServiceClient(project.url, project.serviceRoleKey)));
    const env = {
      STORE: "supabase",
      SUPABASE_URL: project.url,
      SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
    };
    const leaseCalls = () => project.shim.calls("gp_take_leases");
    return await measure(`Supabase, ${STORE_RTT_MS} ms away`, { ...env, UPSTREAM_URL: upstream }, {
      requests,
      leaseCalls,
    });
  } finally {
    await project.close();
    await stack.close();
  }
}

async function onKv(upstream: string, requests: number): Promise<LatencyRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-bench-limits-" });
  try {
    const kvPath = `${dir}/bench.kv`;
    const store = createKvStore(await Deno.openKv(kvPath));
    await seed(store);
    await store.close();
    const env = { STORE: "kv", KV_PATH: kvPath, UPSTREAM_URL: upstream };
    return await measure("Deno KV file", env, { requests, leaseCalls: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function seed(store: Store): Promise<void> {
  await store.addToken({
    id: "t_bench_limited",
    name: "bench limited",
    hash: await sha256Hex(LIMITED),
    masked: "gp-B...0001",
    enabled: true,
    source: "admin",
    createdAt: Date.now(),
    limits: LIMITS,
  });
}

/** Sequential requests with each token, alternating in rounds so drift hits both alike. */
async function measure(
  store: string,
  env: Env,
  options: { requests: number; leaseCalls: (() => number) | null },
): Promise<LatencyRow[]> {
  const server = await startServer({
    ...env,
    PORT: "0",
    SECRET_KEY: SECRET,
    GEMINI_API_KEYS: fakeKeys(20).join(","),
    PROXY_TOKENS: TOKEN,
    LOG_LEVEL: "warn",
  }, { logSink: () => {}, assets: null });
  try {
    const tokens = [["unlimited", TOKEN], ["rpm + rpd + tpd + budget", LIMITED]] as const;
    for (const [, secret] of tokens) await run(server.url, secret, 50);
    const samples = new Map<string, number[]>(tokens.map(([name]) => [name, []]));
    const calls = new Map<string, number>(tokens.map(([name]) => [name, 0]));
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      for (const [name, secret] of tokens) {
        const before = options.leaseCalls?.() ?? 0;
        samples.get(name)!.push(...await run(server.url, secret, options.requests / rounds));
        calls.set(name, calls.get(name)! + (options.leaseCalls?.() ?? 0) - before);
      }
    }
    return tokens.map(([name]) => ({
      store,
      token: name,
      ...percentiles(samples.get(name)!),
      n: samples.get(name)!.length,
      storeCalls: options.leaseCalls ? calls.get(name)! : null,
    }));
  } finally {
    await server.close();
  }
}

async function run(base: string, secret: string, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await fetch(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": secret, "content-type": "application/json" },
      body: '{"contents":[{"parts":[{"text":"hello there"}]}]}',
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    samples.push(performance.now() - started);
  }
  return samples;
}

function percentiles(samples: number[]): { p50: number; p90: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/**
 * The report section (between markers, so other reports keep it).
 * @param bench The measurement.
 * @param command The command that measured it.
 */
export function renderLimitsSection(bench: LimitsBench, command: string): string {
  const { rows, loadAtStart: load } = bench;
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const body: string[][] = [];
  for (const store of [...new Set(rows.map((r) => r.store))]) {
    const [open, limited] = rows.filter((r) => r.store === store);
    if (!open || !limited) continue;
    for (const row of [open, limited]) {
      const calls = row.storeCalls === null ? "-" : String(row.storeCalls);
      body.push([store, row.token, ms(row.p50), ms(row.p90), ms(row.p99), String(row.n), calls]);
    }
    const diff = limited.p50 - open.p50;
    body.push([
      store,
      "**limited minus unlimited, p50**",
      `**${diff >= 0 ? "+" : ""}${ms(diff)}**`,
      "",
      "",
      "",
      "",
    ]);
  }
  return [
    START,
    "",
    "## Token limits on the hot path",
    "",
    `Measured by \`${command}\` on ${new Date().toISOString()} (Deno ${Deno.version.deno}${
      load === null
        ? ""
        : `; load average ${load} on ${navigator.hardwareConcurrency} CPUs at the start`
    }).`,
    "Sequential generateContent requests through the Deno server (fake upstream on 127.0.0.1, no",
    "delay), alternating between an unlimited token and one with `rpm`, `rpd`, `tpd` and a monthly",
    "budget set far above what the run uses. Supabase: real PostgreSQL behind the test PostgREST shim",
    `(tests/support/), with ${STORE_RTT_MS} ms added to every store call. "Store lease calls" counts`,
    "the `gp_take_leases` calls served while that token's requests ran (background refills",
    "included): the limited token leases capacity in blocks instead of a round trip per request.",
    "",
    ...table(["store", "token", "p50", "p90", "p99", "requests", "store lease calls"], body),
    "",
    END,
  ].join("\n");
}

/** A Markdown table padded as `deno fmt` pads it. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/**
 * Replaces the section in a report file (or appends it).
 * @param path The report.
 * @param section The new section.
 */
export async function writeLimitsSection(path: string, section: string): Promise<void> {
  await writeMarkedSection(path, "token-limits", section);
}

if (import.meta.main) {
  const section = renderLimitsSection(
    await benchTokenLimits(),
    "deno run -A --unstable-kv bench/token_charge.ts --write",
  );
  console.log(section);
  if (Deno.args.includes("--write")) {
    const path = new URL("../BENCH.md", import.meta.url).pathname;
    await writeLimitsSection(path, section);
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] }).output();
    console.log(`\nwrote ${path}`);
  }
}
