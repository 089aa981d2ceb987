/**
 * CPU per request of the servers `bench/profile.ts` compares: the bare passthrough, the floor
 * (the bare passthrough doing the runtime work the product cannot skip) and Gemini Proxy, and of
 * Gemini Proxy with one thing changed (10,000 keys; its store in memory), measured from `/proc`
 * over HTTP, unprofiled.
 * @module
 */
import { cpuMs, type Server, spawnServer } from "./_process.ts";
import { startGeminiProxyFromFile } from "./_servers.ts";
import { buildRequest, productionEnv, type Route } from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** wrk's connections in every measurement of the profile. */
export const CONNECTIONS = 32;

/**
 * The servers whose CPU per request is compared; `keys` and `memory` are Gemini Proxy with one
 * thing changed, measured on the native route only.
 */
export type CostTarget = "bare" | "floor" | "ours" | "keys" | "memory";

/** The three servers of the main comparison, on both routes. */
export const MAIN_TARGETS = ["bare", "floor", "ours"] as const;
/** Gemini Proxy with one thing changed (native route). */
export const VARIANTS = ["keys", "memory"] as const;
/** Keys of the `keys` variant (the production environment has 20). */
export const MANY_KEYS = 10_000;

export const COST_LABELS: Record<CostTarget, string> = {
  bare: "bare passthrough (`bench/bare_proxy.ts`)",
  floor: "floor with the product's runtime work (`bench/floor_proxy.ts`)",
  ours: "Gemini Proxy, production environment",
  keys: `Gemini Proxy, ${MANY_KEYS.toLocaleString("en-US")} keys instead of 20`,
  memory: "Gemini Proxy, store in memory (no Deno KV at all)",
};
const COST_SECONDS = 8;
const COST_ROUNDS = 3;

/** One target's CPU per request on one route: the lowest of its rounds, and its req/s then. */
export interface Cost {
  target: CostTarget;
  route: Route;
  cpuUs: number;
  upstreamCpuUs: number;
  rps: number;
}

/** Starts one of the compared servers, unprofiled. */
export function startCostTarget(
  target: CostTarget,
  upstreamUrl: string,
  dir: string,
  flags: string[] = [],
): Promise<Server> {
  if (target === "keys") {
    const env = productionEnv({ upstreamUrl, kvPath: `${dir}/keys.kv`, keys: MANY_KEYS });
    return startGeminiProxyFromFile(env, COST_LABELS.keys, flags);
  }
  if (target === "ours" || target === "memory") {
    const env = productionEnv({ upstreamUrl, kvPath: `${dir}/${target}.kv` });
    if (target === "memory") env.STORE = "memory";
    return spawnServer({
      name: "Gemini Proxy",
      cmd: Deno.execPath(),
      args: ["run", ...flags, "-A", "--unstable-kv", "main.ts"],
      env,
      portPattern: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      readyTimeoutMs: 180_000,
    });
  }
  const file = target === "bare" ? "bench/bare_proxy.ts" : "bench/floor_proxy.ts";
  return spawnServer({
    name: COST_LABELS[target],
    cmd: Deno.execPath(),
    args: ["run", ...flags, "-A", "--unstable-kv", file],
    env: { UPSTREAM_URL: upstreamUrl, PORT: "0", KV_PATH: `${dir}/floor.kv` },
    portPattern: /(?:BARE|FLOOR)_PROXY_PORT=(\d+)/,
  });
}

/**
 * CPU per request over HTTP (all threads of the server's process, and of the fake upstream),
 * for the bare passthrough, the floor with the product's runtime work and Gemini Proxy on both
 * routes, and Gemini Proxy's variants on the native route, rounds interleaved; each keeps its
 * lowest round (the least disturbed by the machine).
 */
export async function measureCosts(upstream: Server, dir: string): Promise<Cost[]> {
  const all: CostTarget[] = [...MAIN_TARGETS, ...VARIANTS];
  const servers = new Map<CostTarget, Server>();
  const costs: Cost[] = [];
  try {
    for (const target of all) {
      servers.set(target, await startCostTarget(target, upstream.url, dir));
    }
    for (const route of ["native", "openai"] as const) {
      const targets = route === "native" ? all : [...MAIN_TARGETS];
      const best = new Map<CostTarget, Cost>();
      for (let round = 0; round < COST_ROUNDS; round++) {
        for (const target of targets) {
          const server = servers.get(target)!;
          const kind = isBare(target) ? "bare" : "ours";
          const request = buildRequest(
            { kind, url: server.url, upstreamUrl: upstream.url },
            route,
            false,
          );
          await runWrk(request, { connections: CONNECTIONS, seconds: 1 });
          const before = [cpuMs(server.pid) ?? 0, cpuMs(upstream.pid) ?? 0];
          const result = await runWrk(request, { connections: CONNECTIONS, seconds: COST_SECONDS });
          const after = [cpuMs(server.pid) ?? 0, cpuMs(upstream.pid) ?? 0];
          const per = (i: number) => ((after[i]! - before[i]!) * 1000) / result.requests;
          const cost = { target, route, cpuUs: per(0), upstreamCpuUs: per(1), rps: result.rps };
          const held = best.get(target);
          if (!held || cost.cpuUs < held.cpuUs) best.set(target, cost);
        }
      }
      costs.push(...targets.map((t) => best.get(t)!));
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  return costs;
}

/** Whether a target is one of the bare passthroughs (which take requests without a token). */
export function isBare(target: CostTarget): boolean {
  return target === "bare" || target === "floor";
}

/** The CPU-per-request table. */
export function renderCosts(costs: Cost[]): string[] {
  const f = (n: number) => n.toFixed(0);
  const lines: string[] = [];
  for (const route of ["native", "openai"] as const) {
    const row = (t: CostTarget) => costs.find((c) => c.route === route && c.target === t)!;
    const bare = row("bare");
    for (const target of MAIN_TARGETS) {
      const c = row(target);
      const extra = target === "bare" ? "-" : `+${f(c.cpuUs - bare.cpuUs)} µs`;
      lines.push(
        `| ${route} | ${COST_LABELS[target]} | ${f(c.cpuUs)} µs | ${extra} | ${
          f(c.upstreamCpuUs)
        } µs | ${Math.round(c.rps).toLocaleString("en-US")} |`,
      );
    }
  }
  return [
    "### CPU per request",
    "",
    `CPU time per request served, all threads of the server's process (from \`/proc\`), under wrk at`,
    `${CONNECTIONS} connections against the 0 ms fake upstream, unprofiled: ${COST_ROUNDS} rounds of ${COST_SECONDS} s,`,
    "interleaved, each server keeping its lowest. The floor is the bare passthrough doing what the",
    "product must ask of the runtime and nothing of its logic (bodies read whole, headers rebuilt,",
    "an abort link and a timeout, the answer decoded, a record per request written to KV in pages).",
    "On this two-core machine wrk, the fake upstream and the server share the cores, so req/s",
    "follows the sum of the three's CPU per request, not the server's alone.",
    "",
    "| route | server | CPU per request | over the bare passthrough | fake upstream's CPU per request | req/s |",
    "|---|---|---|---|---|---|",
    ...lines,
    "",
  ];
}
