/**
 * The phases about request logs (issues 5 and 6): throughput on an empty store vs one holding
 * 100,000 logs, stats query times on that store, and a fixed request count checked against the
 * records stored.
 * @module
 */
import { adminGet, checkLogged, logQueue } from "./_log_check.ts";
import { busy, fixed, measured, pad, runFixedLoad, tail, verify } from "./_measure.ts";
import { type BenchOptions, MAIN_KEYS } from "./_options.ts";
import { readMemory, resetPeak, type Server } from "./_process.ts";
import type { BenchResults, LogVolumeCell, StatsRow } from "./_results.ts";
import { copyKv, seedLogs } from "./_seed_logs.ts";
import { benchShape, startGeminiProxy, startUpstream } from "./_servers.ts";
import { buildRequest, productionEnv } from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** Time after which a stats variant stops once half its calls are done, ms. */
const STATS_BUDGET_MS = 6000;

/** The seeded template of this run (one per KV folder). */
let template: { dir: string; path: string } | null = null;

/**
 * Seeds the store template once per run, recording what it holds in `results.seed`.
 * @returns The template's path.
 */
async function seededTemplate(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<string> {
  if (template?.dir === kvDir && results.seed) return template.path;
  const path = `${kvDir}/seed-template.kv`;
  console.log(`\n== seeding ${options.seedRecords.toLocaleString("en-US")} request logs ==`);
  results.seed = await seedLogs(path, options.seedRecords);
  const c = results.seed.counters;
  console.log(
    `seeded in ${fixed(results.seed.seedMs / 1000, 1)} s (aggregate counters: ` +
      `${c.d} day, ${c.h} hour, ${c.m} minute)`,
  );
  template = { dir: kvDir, path };
  return path;
}

/** Removes a KV file and its SQLite side files. */
async function removeKv(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
}

/**
 * Gemini Proxy's throughput at 32 connections on an empty store and on the seeded one, one proxy
 * at a time, in two alternating rounds (as the key-pool rows).
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runLogVolumePhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  const seedPath = await seededTemplate(options, results, kvDir);
  const records = options.seedRecords;
  console.log(`\n== log volume: empty store vs ${records.toLocaleString("en-US")} stored logs ==`);
  const upstream = await startUpstream(benchShape(0));
  try {
    const cells = [0, records].map((n): LogVolumeCell => ({
      records: n,
      startupMs: 0,
      rounds: [],
      foreignCpu: [],
      peakMb: null,
      dropped: 0,
    }));
    for (let round = 0; round < 2; round++) {
      for (const cell of cells) {
        const kvPath = `${kvDir}/logs-${cell.records}-${round}.kv`;
        if (cell.records > 0) await copyKv(seedPath, kvPath);
        const name = cell.records > 0
          ? `Gemini Proxy (${records.toLocaleString("en-US")} logs)`
          : "Gemini Proxy (empty store)";
        const t = performance.now();
        const server = await startGeminiProxy(
          productionEnv({ upstreamUrl: upstream.url, kvPath, keys: MAIN_KEYS }),
          name,
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
          if (problem) throw new Error(`${name}: ${problem}\n--- its output ---\n${tail(server)}`);
          await runWrk(request, { connections: 32, seconds: options.warmupS });
          if (!resetPeak(server.pid)) results.peakPerCell = false;
          const { value: wrk, foreignCpu } = await measured(() =>
            runWrk(request, { connections: 32, seconds: options.durationS })
          );
          cell.rounds.push(wrk);
          cell.foreignCpu.push(foreignCpu);
          cell.peakMb = Math.max(cell.peakMb ?? 0, readMemory(server.pid)?.peakMb ?? 0);
          cell.dropped += (await logQueue(server)).dropped;
          console.log(
            `${pad(name, 32)} c=32  ${fixed(wrk.rps, 0).padStart(8)} req/s  p99 ` +
              `${fixed(wrk.p99Ms, 2)} ms (started in ${fixed(startupMs / 1000, 1)} s)` +
              busy(foreignCpu),
          );
        } finally {
          await server.stop();
          await removeKv(kvPath);
        }
      }
    }
    results.logVolume = cells;
  } finally {
    await upstream.stop();
  }
}

/**
 * Times `GET /admin/api/stats` for 24 h, 7 d and 30 d, ungrouped and by model, on a copy of the
 * seeded store, with no other load: one untimed first call, then `statsCalls` timed ones each
 * (fewer, but at least half, when they take more than STATS_BUDGET_MS in all: a slow query
 * should not stretch the run by minutes).
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runStatsPhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  const seedPath = await seededTemplate(options, results, kvDir);
  console.log(`\n== stats API on ${options.seedRecords.toLocaleString("en-US")} stored logs ==`);
  const kvPath = `${kvDir}/stats.kv`;
  await copyKv(seedPath, kvPath);
  const started: Server[] = [];
  try {
    // Never called: the proxy needs an upstream URL, and the stats never reach it.
    const upstream = await startUpstream(benchShape(0));
    started.push(upstream);
    const server = await startGeminiProxy(
      productionEnv({ upstreamUrl: upstream.url, kvPath, keys: MAIN_KEYS }),
    );
    started.push(server);
    const { value: rows, foreignCpu } = await measured(async () => {
      const rows: StatsRow[] = [];
      for (const range of ["24h", "7d", "30d"]) {
        for (const group of ["none", "model"]) {
          rows.push(await timeStats(server, range, group, options.statsCalls));
        }
      }
      return rows;
    });
    for (const row of rows) {
      console.log(
        `stats ${pad(`${row.range}, group=${row.group}`, 18)} HTTP p50 ${fixed(row.httpP50Ms, 1)}` +
          ` ms max ${fixed(row.httpMaxMs, 1)} ms; queryMs p50 ${fixed(row.queryP50Ms, 1)} max ` +
          `${fixed(row.queryMaxMs, 1)}; first call ${fixed(row.firstMs, 1)} ms; ` +
          `${row.requests} requests counted` + busy(foreignCpu),
      );
    }
    results.stats = { rows, foreignCpu };
  } finally {
    for (const server of started.reverse()) await server.stop();
    await removeKv(kvPath);
  }
}

async function timeStats(
  server: Server,
  range: string,
  group: string,
  calls: number,
): Promise<StatsRow> {
  interface Answer {
    queryMs: number;
    buckets: number[];
    series: unknown[];
    totals: { requests: number };
  }
  const path = `/admin/api/stats?range=${range}&group=${group}`;
  const once = async () => {
    const t = performance.now();
    const answer = await adminGet<Answer>(server, path);
    return { ms: performance.now() - t, answer };
  };
  const first = await once();
  const http: number[] = [];
  const query: number[] = [];
  let last = first.answer;
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    if (i >= calls / 2 && performance.now() - started > STATS_BUDGET_MS) break;
    const { ms, answer } = await once();
    http.push(ms);
    query.push(answer.queryMs);
    last = answer;
  }
  return {
    range,
    group,
    calls: http.length,
    firstMs: first.ms,
    httpP50Ms: median(http),
    httpMaxMs: Math.max(...http),
    queryP50Ms: median(query),
    queryMaxMs: Math.max(...query),
    requests: last.totals.requests,
    series: last.series.length,
    buckets: last.buckets.length,
  };
}

/**
 * Sends exactly `loggedRequests` generateContent requests at 32 in flight to a proxy on an empty
 * store, waits for its log queue to drain, then compares the 2xx responses with the records
 * (metrics, admin API, and the KV file once the proxy stopped).
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runLoggedPhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  const n = options.loggedRequests;
  console.log(`\n== served vs logged: ${n.toLocaleString("en-US")} requests ==`);
  const kvPath = `${kvDir}/logged.kv`;
  const upstream = await startUpstream(benchShape(0));
  try {
    const server = await startGeminiProxy(
      productionEnv({ upstreamUrl: upstream.url, kvPath, keys: MAIN_KEYS }),
    );
    try {
      // No verify() first: every request this proxy answers must be one the client counts.
      const request = buildRequest(
        { kind: "ours", url: server.url, upstreamUrl: upstream.url },
        "native",
        false,
      );
      const { value: load, foreignCpu } = await measured(() =>
        runFixedLoad({ ...request, concurrency: 32, requests: n })
      );
      const check = await checkLogged(server, kvPath, load, { page: true });
      results.logged = { load, check, foreignCpu };
      console.log(
        `sent ${load.sent}: ${load.ok} 2xx, ${load.badStatus} other, ${load.failed} failed ` +
          `(${fixed(load.rps, 0)} req/s); logged: KV ${check.kvCount}, API ${check.apiCount}, ` +
          `metrics written ${check.metricWritten}, dropped ${check.metricDropped}; flushed in ` +
          `${fixed(check.flushMs, 0)} ms: ${check.ok ? "served == logged" : "MISMATCH"}` +
          busy(foreignCpu),
      );
    } finally {
      await server.stop();
    }
  } finally {
    await upstream.stop();
    await removeKv(kvPath);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid)
    ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
    : sorted[Math.floor(mid)] ?? 0;
}
