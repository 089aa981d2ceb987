/**
 * The load and soak phases (issue 10): many streams held open at once, and a long run at the
 * benchmark's rate with the proxy's memory and file descriptors sampled; both end with the
 * served-vs-logged check.
 * @module
 */
import { checkLogged } from "./_log_check.ts";
import { busy, fixed, measured, runFixedLoad, runStreamClient } from "./_measure.ts";
import { type BenchOptions, MAIN_KEYS } from "./_options.ts";
import { fdCount, readMemory, resetPeak, type Server, socketsTo } from "./_process.ts";
import type { BenchResults, HoldBaseline, SoakResult } from "./_results.ts";
import { benchShape, startBareProxy, startGeminiProxy, startUpstream } from "./_servers.ts";
import { buildRequest, productionEnv, TARGET_LABELS } from "./_targets.ts";
import type { LoadRequest } from "./_wrk.ts";
import type { FixedLoadResult } from "./fixed_load.ts";

/** Requests before the measured part, so the proxy's code is compiled (they are logged too). */
const WARMUP_REQUESTS = 500;

/**
 * Opens `hold.streams` streamGenerateContent requests at once, each a reply of `hold.chunks`
 * chunks `hold.chunkDelayMs` apart: straight at the upstream and through the bare proxy (the
 * baselines: what the client, the upstream and any Deno proxy cost), then through Gemini Proxy,
 * whose RSS and descriptors are sampled every 250 ms while they are open and whose logs are
 * checked afterwards.
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runHoldPhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  const { streams, chunks, chunkDelayMs } = options.hold;
  console.log(
    `\n== ${streams} streams held open (${chunks} chunks ${chunkDelayMs} ms apart) ==`,
  );
  const kvPath = `${kvDir}/hold.kv`;
  const started: Server[] = [];
  try {
    const upstream = await startUpstream({ delayMs: 0, streamChunks: chunks, chunkDelayMs });
    started.push(upstream);
    const baselines: HoldBaseline[] = [];
    for (const kind of ["direct", "bare"] as const) {
      const bare = kind === "bare" ? await startBareProxy(upstream.url) : null;
      if (bare) started.push(bare);
      try {
        const endpoint = { kind, url: bare?.url ?? upstream.url, upstreamUrl: upstream.url };
        await runFixedLoad({
          ...buildRequest(endpoint, "native", false),
          concurrency: 16,
          requests: WARMUP_REQUESTS,
        });
        const held = await holdStreams(bare?.pid ?? null, buildRequest(endpoint, "native", true), {
          streams,
          chunks,
        });
        baselines.push({ target: kind, ...held });
        logHeld(TARGET_LABELS[kind], streams, held);
      } finally {
        await bare?.stop();
      }
    }

    const server = await startGeminiProxy(
      productionEnv({ upstreamUrl: upstream.url, kvPath, keys: MAIN_KEYS }),
    );
    started.push(server);
    const endpoint = { kind: "ours" as const, url: server.url, upstreamUrl: upstream.url };
    const warm = await runFixedLoad({
      ...buildRequest(endpoint, "native", false),
      concurrency: 16,
      requests: WARMUP_REQUESTS,
    });
    await pause(1000);
    const rssBeforeMb = readMemory(server.pid)?.rssMb ?? null;
    const fdsBefore = fdCount(server.pid);
    const held = await holdStreams(server.pid, buildRequest(endpoint, "native", true), {
      streams,
      chunks,
    });
    const { result } = held;
    await pause(1000);
    const rssAfterMb = readMemory(server.pid)?.rssMb ?? null;
    const fdsAfter = fdCount(server.pid);
    const upstreamSocketsAfter = socketsTo(server.pid, upstream.port);
    const check = await checkLogged(server, kvPath, {
      ok: warm.ok + result.streams,
      badStatus: warm.badStatus,
      failed: warm.failed + result.errors,
    }, { page: false });
    results.hold = {
      streams,
      chunks,
      chunkDelayMs,
      result,
      rssBeforeMb,
      rssOpenMb: held.rssOpenMb,
      peakMb: held.peakMb,
      rssAfterMb,
      fdsBefore,
      fdsOpen: held.fdsOpen,
      fdsAfter,
      upstreamSocketsAfter,
      check,
      foreignCpu: held.foreignCpu,
      baselines,
    };
    logHeld(TARGET_LABELS.ours, streams, held);
    console.log(
      `  Gemini Proxy RSS ${mbOrDash(rssBeforeMb)} before, ${mbOrDash(rssAfterMb)} after; fds ` +
        `${fdsBefore} before, ${fdsAfter} after (${upstreamSocketsAfter} of them to the ` +
        `upstream); served == logged: ${check.ok}`,
    );
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}

/** Runs the held streams once, sampling the process in between (when there is one). */
async function holdStreams(
  pid: number | null,
  request: LoadRequest,
  shape: { streams: number; chunks: number },
): Promise<Omit<HoldBaseline, "target">> {
  if (pid !== null) resetPeak(pid);
  let rssOpenMb: number | null = null;
  let fdsOpen: number | null = null;
  const timer = setInterval(() => {
    if (pid === null) return;
    const rss = readMemory(pid)?.rssMb;
    const fds = fdCount(pid);
    if (rss !== undefined) rssOpenMb = Math.max(rssOpenMb ?? 0, rss);
    if (fds !== null) fdsOpen = Math.max(fdsOpen ?? 0, fds);
  }, 250);
  try {
    const { value: result, foreignCpu } = await measured(() =>
      runStreamClient({
        ...request,
        concurrency: shape.streams,
        durationMs: 0,
        once: true,
        expectedEvents: shape.chunks,
      })
    );
    const peakMb = pid === null ? null : readMemory(pid)?.peakMb ?? null;
    return { result, rssOpenMb, fdsOpen, peakMb, foreignCpu };
  } finally {
    clearInterval(timer);
  }
}

function logHeld(label: string, streams: number, held: Omit<HoldBaseline, "target">): void {
  const { result } = held;
  console.log(
    `${label.padEnd(16)} ${result.streams} of ${streams} streams complete (${result.errors} ` +
      `failed${result.firstError ? `: ${result.firstError}` : ""}); first chunk p50 ` +
      `${fixed(result.ttfcP50Ms, 1)} ms p99 ${fixed(result.ttfcP99Ms, 1)} ms; RSS open ` +
      `${mbOrDash(held.rssOpenMb)}, fds ${held.fdsOpen ?? "-"}` + busy(held.foreignCpu),
  );
}

/**
 * Runs Gemini Proxy at `soakConnections` requests in flight (native generateContent, upstream
 * delay 0) for `soakS` seconds with the exact-count load client, sampling its RSS and open file
 * descriptors every 5 s, then checks served == logged.
 * @param options Flags (`soakS`, `soakConnections`).
 * @param command The command line of this run (kept with the soak's figures).
 * @param kvDir Temp folder for KV files.
 * @returns The samples and the check.
 */
export async function runSoakPhase(
  options: BenchOptions,
  command: string,
  kvDir: string,
): Promise<SoakResult> {
  const connections = options.soakConnections;
  const seconds = options.soakS;
  console.log(`\n== soak: Gemini Proxy at ${connections} connections for ${seconds} s ==`);
  const kvPath = `${kvDir}/soak-${seconds}.kv`;
  const startedAt = new Date().toISOString();
  const started: Server[] = [];
  try {
    const upstream = await startUpstream(benchShape(0));
    started.push(upstream);
    const server = await startGeminiProxy(
      productionEnv({ upstreamUrl: upstream.url, kvPath, keys: MAIN_KEYS }),
    );
    started.push(server);
    const request = buildRequest(
      { kind: "ours", url: server.url, upstreamUrl: upstream.url },
      "native",
      false,
    );
    const warm = await runFixedLoad({ ...request, concurrency: 32, requests: WARMUP_REQUESTS });
    await pause(1000);
    const before = {
      rssMb: readMemory(server.pid)?.rssMb ?? null,
      fds: fdCount(server.pid),
      upstreamSockets: socketsTo(server.pid, upstream.port),
    };
    const samples: SoakResult["samples"] = [];
    let t0 = 0;
    const sample = () => {
      const memory = readMemory(server.pid);
      if (!memory) return;
      const atS = (performance.now() - t0) / 1000;
      samples.push({ atS, rssMb: memory.rssMb, fds: fdCount(server.pid) });
      if (samples.length % 6 === 0) {
        console.log(`  ${fixed(atS, 0)} s: RSS ${fixed(memory.rssMb, 0)} MB`);
      }
    };
    let timer: ReturnType<typeof setInterval> | undefined;
    let run: { value: FixedLoadResult; foreignCpu: number | null };
    try {
      run = await measured(() => {
        t0 = performance.now();
        timer = setInterval(sample, 5000);
        return runFixedLoad({ ...request, concurrency: connections, seconds });
      });
    } finally {
      clearInterval(timer);
    }
    sample();
    await pause(1000);
    const after = {
      rssMb: readMemory(server.pid)?.rssMb ?? null,
      fds: fdCount(server.pid),
      upstreamSockets: socketsTo(server.pid, upstream.port),
    };
    const load = run.value;
    const check = await checkLogged(server, kvPath, {
      ok: warm.ok + load.ok,
      badStatus: warm.badStatus + load.badStatus,
      failed: warm.failed + load.failed,
    }, { page: false });
    console.log(
      `${load.ok} served at ${fixed(load.rps, 0)} req/s (${load.badStatus} non-2xx, ` +
        `${load.failed} failed); RSS ${mbOrDash(before.rssMb)} before, ` +
        `${mbOrDash(after.rssMb)} after; fds ${before.fds} before, ${after.fds} after; ` +
        `logged ${check.kvCount} of ${check.served + check.badStatus}: ` +
        `${check.ok ? "served == logged" : "MISMATCH"}` + busy(run.foreignCpu),
    );
    return {
      seconds,
      connections,
      command,
      startedAt,
      load,
      samples,
      before,
      after,
      check,
      foreignCpu: run.foreignCpu,
    };
  } finally {
    for (const server of started.reverse()) await server.stop();
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(kvPath + suffix).catch(() => {});
  }
}

function mbOrDash(n: number | null): string {
  return n === null ? "-" : `${n.toFixed(0)} MB`;
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
