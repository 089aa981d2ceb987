/**
 * `deno task bench`: Gemini Proxy side by side with the upstream itself, a bare Deno passthrough
 * proxy (the floor) and Portkey's gateway (a peer), on 127.0.0.1, under wrk. Writes BENCH.md.
 *
 * Flags: `--duration=5` seconds per wrk cell, `--quick` (smoke run: 1 s cells, 0 ms delay only,
 * written to .bench/BENCH.quick.md), `--soak=300` (adds a memory-flatness run of that many
 * seconds), `--only=main,scaling,soak` (phases to run), `--no-portkey`, `--out=FILE`,
 * `--render=.bench/BENCH.json` (rewrite the report from the raw figures a run saved in .bench/).
 * @module
 */
import { cpuSnapshot, foreignCpuShare, loadAverage, machineInfo } from "./_machine.ts";
import {
  type BenchOptions,
  CHUNK_DELAY_MS,
  MAIN_KEYS,
  parseOptions,
  STREAM_CHUNKS,
} from "./_options.ts";
import { runDelayPhase, runScalingPhase, runSoakPhase } from "./_phases.ts";
import { ROOT, stopAll } from "./_process.ts";
import { renderReport } from "./_report.ts";
import type { BenchResults } from "./_results.ts";
import { ensurePortkey, nodeVersion, PORTKEY_VERSION } from "./_servers.ts";
import { ensureWrk } from "./_wrk.ts";

/**
 * Runs the whole benchmark and writes the report.
 * @param options Parsed flags.
 * @returns The results.
 */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const startedAt = new Date();
  const t0 = performance.now();
  await ensureWrk();
  const portkeyProblem = options.portkey ? await ensurePortkey() : "skipped with --no-portkey";
  const results: BenchResults = {
    startedAt,
    elapsedS: 0,
    command: ["deno task bench", ...Deno.args].join(" "),
    machine: await machineInfo(options.portkey ? await nodeVersion() : null),
    durationS: options.durationS,
    connections: options.connections,
    delays: options.delays,
    streamConcurrency: options.streamConcurrency,
    stream: { chunks: STREAM_CHUNKS, chunkDelayMs: CHUNK_DELAY_MS },
    keys: MAIN_KEYS,
    portkey: portkeyProblem ? { skipped: portkeyProblem } : { version: PORTKEY_VERSION },
    peakPerCell: true,
    cells: [],
    streams: [],
    scaling: [],
    idle: [],
    soak: null,
    loadAtStart: null,
    foreignCpu: null,
    notes: [],
  };
  const kvDir = await Deno.makeTempDir({ prefix: "gemini-proxy-bench-kv-" });
  results.loadAtStart = loadAverage();
  if ((results.loadAtStart ?? 0) > 0.5) {
    console.warn(`load average is ${results.loadAtStart}: other work will lower every figure`);
  }
  const cpuBefore = cpuSnapshot();
  try {
    if (options.only.has("main")) {
      for (const delayMs of options.delays) {
        await runDelayPhase(delayMs, options, results, kvDir, portkeyProblem === null);
      }
    }
    if (options.only.has("scaling")) await runScalingPhase(options, results, kvDir);
    if (options.only.has("soak") && options.soakS > 0) {
      results.soak = await runSoakPhase(options, kvDir);
    }
  } finally {
    await stopAll();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
  results.elapsedS = (performance.now() - t0) / 1000;
  const cpuAfter = cpuSnapshot();
  if (cpuBefore && cpuAfter) results.foreignCpu = foreignCpuShare(cpuBefore, cpuAfter);
  return results;
}

if (import.meta.main) {
  // Servers run in their own sessions, so a Ctrl-C reaches only the harness: stop them here.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      console.error(`\n${signal}: stopping servers`);
      await stopAll();
      Deno.exit(130);
    });
  }
  let code = 0;
  try {
    const options = parseOptions(Deno.args);
    let results: BenchResults;
    if (options.render) {
      results = JSON.parse(await Deno.readTextFile(options.render)) as BenchResults;
      results.startedAt = new Date(results.startedAt);
    } else {
      results = await runBench(options);
      // Raw figures in the git-ignored .bench/, so a layout change can be re-rendered (--render)
      // without measuring again.
      await Deno.mkdir(`${ROOT}/.bench`, { recursive: true });
      const name = options.out.replace(/^.*\//, "").replace(/\.md$/, "");
      await Deno.writeTextFile(`${ROOT}/.bench/${name}.json`, JSON.stringify(results));
    }
    const dir = options.out.includes("/")
      ? options.out.slice(0, options.out.lastIndexOf("/"))
      : ".";
    await Deno.mkdir(dir || "/", { recursive: true });
    await Deno.writeTextFile(options.out, renderReport(results));
    // The repository's `deno fmt --check` covers markdown: leave the report formatted.
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", options.out],
      cwd: ROOT,
      stdout: "null",
      stderr: "inherit",
    }).output();
    console.log(`\nwrote ${options.out} (${results.elapsedS.toFixed(0)} s)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    code = 1;
  } finally {
    await stopAll();
  }
  Deno.exit(code);
}
