/**
 * Store reads while nothing happens: Gemini Proxy in its production environment on Deno KV,
 * started through `bench/proxy_counted.ts` (the same `startServer` call as `main.ts`, its KV
 * handle counting every read), served a few requests, then left idle. The reads of the idle
 * window are scaled to a minute.
 * @module
 */
import { fixed, verify } from "./_measure.ts";
import type { BenchOptions } from "./_options.ts";
import { spawnServer } from "./_process.ts";
import type { BenchResults, IdleReads } from "./_results.ts";
import { benchShape, startUpstream } from "./_servers.ts";
import { buildRequest, productionEnv } from "./_targets.ts";
import { type ReadCounts, roundTrips } from "../tests/support/read_counter.ts";

/** Time given to the requests' background writes before the idle window opens, ms. */
const SETTLE_MS = 3000;

/**
 * Counts the store reads of an idle proxy over `options.idleS` seconds.
 * @param options Flags.
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runIdleReadsPhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  console.log(`\n== store reads of an idle proxy (${options.idleS} s, scaled to a minute) ==`);
  const upstream = await startUpstream(benchShape(0));
  const envFile = await Deno.makeTempFile({ prefix: "gemini-proxy-bench-env-", suffix: ".json" });
  const readsFile = await Deno.makeTempFile({ prefix: "gemini-proxy-bench-reads-" });
  try {
    const env = productionEnv({ upstreamUrl: upstream.url, kvPath: `${kvDir}/idle-reads.kv` });
    await Deno.writeTextFile(envFile, JSON.stringify(env));
    const server = await spawnServer({
      name: "Gemini Proxy (counted reads)",
      cmd: Deno.execPath(),
      args: ["run", "-A", "--unstable-kv", "bench/proxy_counted.ts", envFile, readsFile],
      portPattern: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      readyTimeoutMs: 120_000,
    });
    try {
      const request = buildRequest(
        { kind: "ours", url: server.url, upstreamUrl: upstream.url },
        "native",
        false,
      );
      for (let i = 0; i < 5; i++) {
        const problem = await verify(request);
        if (problem) throw new Error(`${server.name}: ${problem}`);
      }
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const before = await readCounts(server.pid, readsFile);
      await new Promise((r) => setTimeout(r, options.idleS * 1000));
      const after = await readCounts(server.pid, readsFile);
      results.idleReads = idleReads(before, after, options.idleS);
      const r = results.idleReads;
      console.log(
        `idle ${r.windowS} s: ${r.reads} store reads (${fixed(r.perMinute, 1)} per minute; ` +
          `get ${r.counts.get}, getMany ${r.counts.getMany}, list ${r.counts.list}, ` +
          `watch ${r.counts.watch})`,
      );
    } finally {
      await server.stop();
    }
  } finally {
    await upstream.stop();
    await Deno.remove(envFile).catch(() => {});
    await Deno.remove(readsFile).catch(() => {});
  }
}

/**
 * Asks a proxy started through `bench/proxy_counted.ts` (SIGUSR1) to write its counts, then
 * reads them.
 * @param pid The proxy's process.
 * @param file The counts file it was started with.
 * @returns Its store reads and writes so far.
 */
export async function readCounts(pid: number, file: string): Promise<ReadCounts> {
  await Deno.writeTextFile(file, "");
  Deno.kill(pid, "SIGUSR1");
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const text = await Deno.readTextFile(file);
    if (text) return JSON.parse(text) as ReadCounts;
  }
  throw new Error("The counted proxy did not report its store reads and writes");
}

function idleReads(before: ReadCounts, after: ReadCounts, windowS: number): IdleReads {
  const counts: ReadCounts = {
    get: after.get - before.get,
    getMany: after.getMany - before.getMany,
    list: after.list - before.list,
    listed: after.listed - before.listed,
    watch: after.watch - before.watch,
    commits: after.commits - before.commits,
    mutations: after.mutations - before.mutations,
  };
  const reads = roundTrips(counts);
  return { windowS, reads, perMinute: (reads * 60) / windowS, counts };
}
