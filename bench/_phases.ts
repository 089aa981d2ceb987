/**
 * The phases of a run that compare targets: all targets per upstream delay, and key-pool scaling.
 * The log phases are in `_phases_logs.ts`, the load and soak phases in `_phases_load.ts`.
 * @module
 */
import {
  busy,
  firstLine,
  fixed,
  idleCpu,
  measured,
  pad,
  runStreamClient,
  tail,
  verify,
} from "./_measure.ts";
import { type BenchOptions, COLD_S, MAIN_KEYS, STREAM_CHUNKS } from "./_options.ts";
import { readMemory, resetPeak, type Server, spawnServer } from "./_process.ts";
import { readCounts } from "./_phases_idle.ts";
import type { BenchResults, ScaleCell } from "./_results.ts";
import {
  benchShape,
  startBareProxy,
  startGeminiProxy,
  startGeminiProxyFromFile,
  startPortkey,
  startUpstream,
} from "./_servers.ts";
import {
  buildRequest,
  productionEnv,
  type Route,
  TARGET_LABELS,
  type TargetEndpoint,
  type TargetKind,
} from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** A target of one phase: where it is, what it is and which process to watch. */
interface LiveTarget {
  kind: TargetKind;
  route: Route;
  endpoint: TargetEndpoint;
  /** The process under test (null for the upstream measured directly). */
  server: Server | null;
}

/**
 * Every target at every connection level, then the stream client, for one upstream delay.
 * @param delayMs Upstream delay.
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 * @param withPortkey Whether Portkey is installed and wanted.
 */
export async function runDelayPhase(
  delayMs: number,
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
  withPortkey: boolean,
): Promise<void> {
  console.log(`\n== upstream delay ${delayMs} ms ==`);
  const started: Server[] = [];
  try {
    const upstream = await startUpstream(benchShape(delayMs));
    started.push(upstream);
    const bare = await startBareProxy(upstream.url);
    started.push(bare);
    const ours = await startGeminiProxy(
      productionEnv({
        upstreamUrl: upstream.url,
        kvPath: `${kvDir}/delay-${delayMs}.kv`,
        keys: MAIN_KEYS,
      }),
    );
    started.push(ours);
    let portkey: Server | null = null;
    if (withPortkey) {
      try {
        portkey = await startPortkey();
        started.push(portkey);
      } catch (error) {
        results.notes.push(`Portkey did not start (${delayMs} ms phase): ${firstLine(error)}`);
      }
    }

    const targets: LiveTarget[] = [];
    const add = (kind: TargetKind, route: Route, server: Server | null, url: string) =>
      targets.push({ kind, route, server, endpoint: { kind, url, upstreamUrl: upstream.url } });
    for (const route of ["native", "openai"] as const) {
      add("direct", route, null, upstream.url);
      add("bare", route, bare, bare.url);
      add("ours", route, ours, ours.url);
    }
    if (portkey) add("portkey", "openai", portkey, portkey.url);
    for (
      const [target, server] of [["bare", bare], ["ours", ours], ["portkey", portkey]] as const
    ) {
      const rssMb = server ? readMemory(server.pid)?.rssMb : undefined;
      if (rssMb !== undefined) results.idle.push({ delayMs, target, rssMb });
    }

    for (const target of [...targets]) {
      const problem = await verify(buildRequest(target.endpoint, target.route, false));
      if (!problem) continue;
      if (target.kind !== "portkey") {
        throw new Error(`${label(target)}: ${problem}\n--- its output ---\n${tail(target.server)}`);
      }
      results.notes.push(`Portkey answered wrongly, left out: ${problem}`);
      targets.splice(targets.indexOf(target), 1);
    }

    // A process's cold start is the start of its first route's warm-up (one serving both routes
    // starts cold once).
    const warmed = new Set<Server | null>();
    for (const target of targets) {
      const request = buildRequest(target.endpoint, target.route, false);
      let seconds = options.warmupS;
      if (!warmed.has(target.server) && seconds > COLD_S) {
        const cold = await runWrk(request, { connections: 32, seconds: COLD_S });
        results.cold.push({
          delayMs,
          route: target.route,
          target: target.kind,
          seconds: COLD_S,
          rps: cold.rps,
          p99Ms: cold.p99Ms,
        });
        seconds -= COLD_S;
      }
      warmed.add(target.server);
      await runWrk(request, { connections: 32, seconds });
    }
    // Concurrency outermost: the cells compared with each other run close together in time.
    for (const connections of options.connections) {
      for (const target of targets) {
        const pid = target.server?.pid;
        if (pid !== undefined && !resetPeak(pid)) results.peakPerCell = false;
        const { value: wrk, foreignCpu } = await measured(() =>
          runWrk(buildRequest(target.endpoint, target.route, false), {
            connections,
            seconds: options.durationS,
          })
        );
        const memory = pid === undefined ? null : readMemory(pid);
        results.cells.push({
          delayMs,
          route: target.route,
          target: target.kind,
          connections,
          wrk,
          peakMb: memory?.peakMb ?? null,
          rssMb: memory?.rssMb ?? null,
          foreignCpu,
        });
        console.log(
          `${pad(label(target), 32)} c=${pad(String(connections), 4)}` +
            `${fixed(wrk.rps, 0).padStart(8)} req/s  p50 ${fixed(wrk.p50Ms, 2)} ms` +
            `  p99 ${fixed(wrk.p99Ms, 2)} ms` +
            (memory ? `  peak ${fixed(memory.peakMb, 0)} MB` : "") +
            (wrk.errors ? `  ERRORS ${wrk.errors}` : "") + busy(foreignCpu),
        );
      }
    }

    for (const target of targets) {
      const { value: result, foreignCpu } = await measured(() =>
        runStreamClient({
          ...buildRequest(target.endpoint, target.route, true),
          concurrency: options.streamConcurrency,
          durationMs: options.streamMs,
          expectedEvents: STREAM_CHUNKS,
        })
      );
      results.streams.push({
        delayMs,
        route: target.route,
        target: target.kind,
        result,
        foreignCpu,
      });
      console.log(
        `${pad(label(target), 32)} stream: ${result.streams} streams, first chunk p50 ` +
          `${fixed(result.ttfcP50Ms, 2)} ms p99 ${fixed(result.ttfcP99Ms, 2)} ms, gap p99 ` +
          `${fixed(result.gapP99Ms, 2)} ms` + (result.errors ? `  ERRORS ${result.errors}` : "") +
          busy(foreignCpu),
      );
    }
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}

/**
 * Throughput of Gemini Proxy with a small and a large key pool.
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runScalingPhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  console.log(`\n== key pool: ${options.scaleKeys.join(" vs ")} keys ==`);
  const upstream = await startUpstream(benchShape(0));
  try {
    const cells = options.scaleKeys.map((keys): ScaleCell => ({
      keys,
      startupMs: 0,
      rounds: [],
      foreignCpu: [],
      peakMb: null,
      idleCpuPct: null,
      drainMs: null,
      settledIdleCpuPct: null,
      kvWrites: null,
    }));
    // One proxy alive at a time (an idle proxy's background work would load the other's CPUs),
    // in two alternating rounds so that drift over time hits both pool sizes alike.
    for (let round = 0; round < 2; round++) {
      for (const cell of cells) {
        const t = performance.now();
        const server = await startGeminiProxyFromFile(
          productionEnv({
            upstreamUrl: upstream.url,
            kvPath: `${kvDir}/keys-${cell.keys}-${round}.kv`,
            keys: cell.keys,
          }),
          `Gemini Proxy (${cell.keys} keys)`,
        );
        const startupMs = performance.now() - t;
        try {
          cell.startupMs = Math.max(cell.startupMs, startupMs);
          const request = buildRequest(
            { kind: "ours", url: server.url, upstreamUrl: upstream.url },
            "native",
            false,
          );
          const problem = await verify(request);
          if (problem) {
            throw new Error(`${server.name}: ${problem}\n--- its output ---\n${tail(server)}`);
          }
          await runWrk(request, { connections: 32, seconds: options.warmupS });
          if (!resetPeak(server.pid)) results.peakPerCell = false;
          const { value: wrk, foreignCpu } = await measured(() =>
            runWrk(request, { connections: 32, seconds: options.durationS })
          );
          cell.rounds.push(wrk);
          cell.foreignCpu.push(foreignCpu);
          cell.peakMb = Math.max(cell.peakMb ?? 0, readMemory(server.pid)?.peakMb ?? 0);
          if (round === 1) {
            cell.idleCpuPct = await idleCpu(server.pid, 3000);
            cell.drainMs = await drained(server.url, 3000);
            // The pool's counters go out within a second of the last request.
            await new Promise((r) => setTimeout(r, 1000));
            cell.settledIdleCpuPct = await idleCpu(server.pid, 3000);
          }
          console.log(
            `${pad(server.name, 32)} c=32  ${fixed(wrk.rps, 0).padStart(8)} req/s` +
              ` (started in ${fixed(startupMs / 1000, 1)} s)` + busy(foreignCpu) +
              (cell.idleCpuPct === null || round === 0
                ? ""
                : `, idle afterwards: ${
                  fixed(cell.idleCpuPct, 0)
                }% of a core; logs and counters stored ` +
                  `${fixed((cell.drainMs ?? 0) / 1000, 1)} s after load, then idle: ` +
                  `${fixed(cell.settledIdleCpuPct ?? 0, 1)}% of a core`),
          );
        } finally {
          await server.stop();
        }
      }
    }
    // The store writes per request, in a run of their own: the counting handle stays out of the
    // rounds above, whose throughput and idle CPU are the verdicts'.
    for (const cell of cells) {
      cell.kvWrites = await countWrites(upstream, { kvDir, keys: cell.keys });
    }
    results.scaling = cells;
  } finally {
    await upstream.stop();
  }
}

/**
 * The Deno KV writes of Gemini Proxy serving the native route at 32 connections for 5 s, its
 * last log pages and counters included (counted 1.5 s after the load ends).
 */
async function countWrites(
  upstream: Server,
  pool: { kvDir: string; keys: number },
): Promise<{ commits: number; mutations: number; requests: number }> {
  const { server, countsFile } = await startCounted(
    productionEnv({
      upstreamUrl: upstream.url,
      kvPath: `${pool.kvDir}/keys-${pool.keys}-counted.kv`,
      keys: pool.keys,
    }),
    `Gemini Proxy (${pool.keys} keys, counted writes)`,
  );
  try {
    const request = buildRequest(
      { kind: "ours", url: server.url, upstreamUrl: upstream.url },
      "native",
      false,
    );
    await runWrk(request, { connections: 32, seconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const before = await readCounts(server.pid, countsFile);
    const wrk = await runWrk(request, { connections: 32, seconds: 5 });
    await new Promise((r) => setTimeout(r, 1500));
    const after = await readCounts(server.pid, countsFile);
    const writes = {
      commits: after.commits - before.commits,
      mutations: after.mutations - before.mutations,
      requests: wrk.requests,
    };
    console.log(
      `${pad(server.name, 32)} KV writes: ${fixed(writes.mutations / writes.requests, 2)} ` +
        `mutations per request, ${fixed((1000 * writes.commits) / writes.requests, 1)} commits ` +
        "per 1,000 requests",
    );
    return writes;
  } finally {
    await server.stop();
    await Deno.remove(countsFile).catch(() => {});
  }
}

/**
 * Starts Gemini Proxy through `bench/proxy_counted.ts`: `main.ts`'s `startServer` with its
 * environment read from a file (10,000 keys are over Linux's 128 KiB limit for one environment
 * string) and its Deno KV handle counting reads and writes, reported on SIGUSR1.
 */
async function startCounted(
  env: Record<string, string>,
  label: string,
): Promise<{ server: Server; countsFile: string }> {
  const envFile = await Deno.makeTempFile({ prefix: "gemini-proxy-bench-env-", suffix: ".json" });
  const countsFile = await Deno.makeTempFile({ prefix: "gemini-proxy-bench-counts-" });
  await Deno.writeTextFile(envFile, JSON.stringify(env));
  try {
    const server = await spawnServer({
      name: label,
      cmd: Deno.execPath(),
      args: ["run", "-A", "--unstable-kv", "bench/proxy_counted.ts", envFile, countsFile],
      portPattern: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      readyTimeoutMs: 300_000,
    });
    return { server, countsFile };
  } finally {
    await Deno.remove(envFile).catch(() => {});
  }
}

function label(target: LiveTarget): string {
  return `${TARGET_LABELS[target.kind]} (${target.route})`;
}

/**
 * Waits until the proxy has stored everything it served (`/healthz`): its log queue empty and no
 * aggregate counter row pending, polled every 100 ms for up to 60 s.
 * @param url The proxy.
 * @param since Ms already passed since the load ended (added to the result).
 * @returns Ms from the end of the load until then.
 */
async function drained(url: string, since: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < 60_000) {
    const health = await (await fetch(`${url}/healthz`)).json();
    // Older proxies report no countersPending: their queue alone counts.
    if (health.logs?.queued === 0 && !health.logs?.countersPending) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return since + performance.now() - start;
}
