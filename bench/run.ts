/**
 * `deno task bench`: Gemini Proxy side by side with the upstream itself, a bare Deno passthrough
 * proxy (the floor) and Portkey's gateway (a peer), on 127.0.0.1, under wrk; then its key-pick
 * cost, the effect of 100,000 stored logs, stats query times, served vs logged, 1,000 streams held
 * open, what 20,000 invented model names cost, a soak, and what token limits add to the hot
 * path. Writes BENCH.md; an `--only` run of marked sections alone (`--only=invented_models`) with
 * no earlier raw figures replaces just those sections.
 *
 * Flags: `--duration=4` seconds per wrk cell, `--quick` (smoke run: short cells, 0 ms delay only,
 * small counts, written to .bench/BENCH.quick.md), `--soak=60` (soak length in seconds; 0 skips
 * it; `deno task bench --only=soak --soak=300` is the 5-minute soak), `--idle=30` (the idle
 * window of the idle-reads row, scaled to a minute), `--only=main,scaling,...`
 * (phases to run, see `PHASES` in bench/_options.ts; the figures of an `--only` run are merged
 * into the report's earlier ones), `--no-portkey`, `--out=FILE`, `--render=.bench/BENCH.json`
 * (rewrite the report from the raw figures a run saved in .bench/).
 * @module
 */
import { cpuSnapshot, foreignCpuShare, loadAverage, machineInfo } from "./_machine.ts";
import { busy, measured } from "./_measure.ts";
import {
  type BenchOptions,
  CHUNK_DELAY_MS,
  MAIN_KEYS,
  parseOptions,
  PHASES,
  SECTION_PHASES,
  STREAM_CHUNKS,
} from "./_options.ts";
import { runDelayPhase, runScalingPhase } from "./_phases.ts";
import { runIdleReadsPhase } from "./_phases_idle.ts";
import { runHoldPhase, runSoakPhase } from "./_phases_load.ts";
import { runInventedModelsPhase } from "./_phases_models.ts";
import { inventedSection, spliceSection } from "./_report_models.ts";
import { runLoggedPhase, runLogVolumePhase, runStatsPhase } from "./_phases_logs.ts";
import { ROOT, stopAll } from "./_process.ts";
import { renderReport } from "./_report.ts";
import { mergeResults, normalizeResults } from "./_merge.ts";
import type { BenchResults } from "./_results.ts";
import { ensurePortkey, nodeVersion, PORTKEY_VERSION } from "./_servers.ts";
import { ensureWrk } from "./_wrk.ts";
import { benchPickKey } from "./pick_key.ts";
import { benchTokenLimits, renderLimitsSection, writeLimitsSection } from "./token_charge.ts";

/** The run's temporary KV folder, removed on Ctrl-C too (seeded stores take ~200 MB each). */
let activeKvDir: string | null = null;

/**
 * Runs the whole benchmark and writes the report.
 * @param options Parsed flags.
 * @returns The results.
 */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const startedAt = new Date();
  const t0 = performance.now();
  await ensureWrk();
  const wantsPortkey = options.portkey && options.only.has("main");
  const portkeyProblem = wantsPortkey
    ? await ensurePortkey()
    : options.portkey
    ? "not part of this run's phases"
    : "skipped with --no-portkey";
  const results: BenchResults = {
    startedAt,
    elapsedS: 0,
    command: ["deno task bench", ...Deno.args].join(" "),
    machine: await machineInfo(wantsPortkey ? await nodeVersion() : null),
    durationS: options.durationS,
    warmupS: options.warmupS,
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
    idleReads: null,
    idle: [],
    cold: [],
    pickKey: null,
    seed: null,
    logVolume: [],
    stats: null,
    logged: null,
    hold: null,
    inventedModels: null,
    soaks: [],
    merged: [],
    phaseS: {},
    loadAtStart: null,
    foreignCpu: null,
    notes: [],
  };
  const kvDir = await Deno.makeTempDir({ prefix: "gemini-proxy-bench-kv-" });
  activeKvDir = kvDir;
  results.loadAtStart = loadAverage();
  if ((results.loadAtStart ?? 0) > 0.5) {
    console.warn(`load average is ${results.loadAtStart}: other work will lower every figure`);
  }
  const cpuBefore = cpuSnapshot();
  try {
    for (const phase of PHASES) {
      if (!options.only.has(phase)) continue;
      const phaseStart = performance.now();
      if (phase === "pickkey") {
        console.log("\n== key pick: 10 vs 10,000 keys per strategy ==");
        const { value: rows, foreignCpu } = await measured(() => Promise.resolve(benchPickKey()));
        results.pickKey = { rows, foreignCpu };
        for (const row of rows) {
          console.log(
            `${row.strategy.padEnd(12)} ${String(row.keys).padStart(6)} keys: ` +
              `${row.nsPerPick} ns/pick`,
          );
        }
        if (foreignCpu !== null) console.log(busy(foreignCpu).trim());
      } else if (phase === "main") {
        for (const delayMs of options.delays) {
          await runDelayPhase(delayMs, options, results, kvDir, portkeyProblem === null);
        }
      } else if (phase === "scaling") await runScalingPhase(options, results, kvDir);
      else if (phase === "idle_reads") await runIdleReadsPhase(options, results, kvDir);
      else if (phase === "logvolume") await runLogVolumePhase(options, results, kvDir);
      else if (phase === "stats") await runStatsPhase(options, results, kvDir);
      else if (phase === "logged") await runLoggedPhase(options, results, kvDir);
      else if (phase === "hold") await runHoldPhase(options, results, kvDir);
      else if (phase === "invented_models") await runInventedModelsPhase(options, results, kvDir);
      else if (phase === "soak" && options.soakS > 0) {
        results.soaks.push(await runSoakPhase(options, results.command, kvDir));
      } else if (phase === "limits") {
        console.log("\n== token limits on the hot path (Supabase 50 ms away, KV) ==");
        const measured = await benchTokenLimits({ requests: options.limitsRequests });
        const section = renderLimitsSection(measured, results.command);
        console.log(section);
        // A marked section of the report, kept when the rest is rendered (see keptSections).
        await writeLimitsSection(options.out, section);
      }
      results.phaseS[phase] = (performance.now() - phaseStart) / 1000;
      console.log(`(${phase}: ${Math.round(results.phaseS[phase])} s)`);
    }
  } finally {
    await stopAll();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
    activeKvDir = null;
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
      if (activeKvDir) await Deno.remove(activeKvDir, { recursive: true }).catch(() => {});
      Deno.exit(130);
    });
  }
  let code = 0;
  try {
    const options = parseOptions(Deno.args);
    let results: BenchResults;
    let elapsedS = 0;
    /** Set when only marked sections were measured and no earlier results exist to merge into. */
    let spliceOnly = false;
    const saved = `${ROOT}/.bench/${options.out.replace(/^.*\//, "").replace(/\.md$/, "")}.json`;
    if (options.render) {
      results = normalizeResults(JSON.parse(await Deno.readTextFile(options.render)));
    } else {
      results = await runBench(options);
      elapsedS = results.elapsedS;
      // An --only run refreshes some sections of the report: the rest comes from the run the
      // report was written from, whose raw figures are kept in .bench/.
      const partial = PHASES.some((p) => !options.only.has(p));
      if (partial) {
        const base = await Deno.readTextFile(saved).then(JSON.parse).catch(() => null);
        if (base) results = mergeResults(normalizeResults(base), results, [...options.only]);
        else spliceOnly = [...options.only].every((p) => SECTION_PHASES.includes(p));
      }
      // Raw figures in the git-ignored .bench/, so a layout change can be re-rendered (--render)
      // without measuring again.
      // A splice-only run's figures are no base for later merges: they lack every other section.
      if (!spliceOnly) {
        await Deno.mkdir(`${ROOT}/.bench`, { recursive: true });
        await Deno.writeTextFile(saved, JSON.stringify(results));
      }
    }
    const dir = options.out.includes("/")
      ? options.out.slice(0, options.out.lastIndexOf("/"))
      : ".";
    await Deno.mkdir(dir || "/", { recursive: true });
    // bench/worker_size.ts writes its own marked section into the report: keep it.
    const previous = await Deno.readTextFile(options.out).catch(() => "");
    // Without the raw figures of the run the report came from, a run of marked sections only
    // replaces those sections and leaves the rest of the report as it was.
    await Deno.writeTextFile(
      options.out,
      spliceOnly && previous
        ? (results.inventedModels ? spliceSection(previous, inventedSection(results)) : previous)
        : renderReport(results) + keptSections(previous),
    );
    // The repository's `deno fmt --check` covers markdown: leave the report formatted.
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", options.out],
      cwd: ROOT,
      stdout: "null",
      stderr: "inherit",
    }).output();
    console.log(`\nwrote ${options.out}` + (elapsedS ? ` (${elapsedS.toFixed(0)} s)` : ""));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    code = 1;
  } finally {
    await stopAll();
  }
  Deno.exit(code);
}

/**
 * Sections other tools write into the report between markers (bench/worker_size.ts,
 * bench/token_charge.ts, bench/profile.ts), carried over unchanged from the report being replaced.
 * @param previous The report before this run.
 * @returns The sections, each preceded by a blank line, or "".
 */
function keptSections(previous: string): string {
  let out = "";
  for (const name of ["worker-size", "token-limits", "profile"]) {
    const start = previous.indexOf(`<!-- ${name}:start -->`);
    const endMarker = `<!-- ${name}:end -->`;
    const end = previous.indexOf(endMarker);
    if (start >= 0 && end > start) {
      out += `\n${previous.slice(start, end + endMarker.length)}\n`;
    }
  }
  return out;
}
