/**
 * Combining runs: an `--only` run (say the 5-minute soak) replaces the sections it measured in
 * the report's earlier results and leaves the rest, and the report names every run it shows.
 * @module
 */
import type { BenchResults } from "./_results.ts";

/**
 * Fills what results saved by an older harness lack, so they still render.
 * @param raw Parsed `.bench/*.json`.
 * @returns Results with every field present.
 */
export function normalizeResults(raw: Record<string, unknown>): BenchResults {
  const r = raw as unknown as BenchResults;
  const startedAt = new Date(String(raw.startedAt));
  return {
    ...r,
    startedAt,
    cells: r.cells ?? [],
    streams: r.streams ?? [],
    scaling: r.scaling ?? [],
    idle: r.idle ?? [],
    cold: r.cold ?? [],
    pickKey: r.pickKey ?? null,
    seed: r.seed ?? null,
    logVolume: r.logVolume ?? [],
    stats: r.stats ?? null,
    logged: r.logged ?? null,
    hold: r.hold ?? null,
    inventedModels: r.inventedModels ?? null,
    // Soaks of older harnesses (`soak`, wrk at 256 connections, no descriptor counts) are dropped.
    soaks: r.soaks ?? [],
    merged: r.merged ?? [],
    phaseS: r.phaseS ?? {},
    notes: r.notes ?? [],
  };
}

/**
 * Puts the sections a partial run measured into earlier results.
 * @param base Results the report was written from.
 * @param run The partial run.
 * @param phases Phases the partial run took.
 * @returns The merged results (`base`, changed).
 */
export function mergeResults(
  base: BenchResults,
  run: BenchResults,
  phases: string[],
): BenchResults {
  const has = (phase: string) => phases.includes(phase);
  if (has("pickkey")) base.pickKey = run.pickKey;
  if (has("main")) {
    Object.assign(base, {
      cells: run.cells,
      streams: run.streams,
      idle: run.idle,
      cold: run.cold,
      warmupS: run.warmupS,
      delays: run.delays,
      connections: run.connections,
      durationS: run.durationS,
      streamConcurrency: run.streamConcurrency,
      stream: run.stream,
      keys: run.keys,
      portkey: run.portkey,
      peakPerCell: run.peakPerCell,
    });
  }
  if (has("scaling")) base.scaling = run.scaling;
  if (has("idle_reads")) base.idleReads = run.idleReads ?? null;
  if (has("logvolume")) base.logVolume = run.logVolume;
  if (has("stats")) base.stats = run.stats;
  if ((has("logvolume") || has("stats")) && run.seed) base.seed = run.seed;
  if (has("logged")) base.logged = run.logged;
  if (has("hold")) base.hold = run.hold;
  if (has("invented_models")) base.inventedModels = run.inventedModels;
  for (const soak of run.soaks) {
    base.soaks = base.soaks.filter((s) => s.seconds !== soak.seconds);
    base.soaks.push(soak);
    base.soaks.sort((a, b) => a.seconds - b.seconds);
  }
  base.notes.push(...run.notes);
  base.merged = [
    ...base.merged.filter((m) => m.command !== run.command),
    {
      command: run.command,
      startedAt: run.startedAt.toISOString(),
      elapsedS: run.elapsedS,
      foreignCpu: run.foreignCpu,
      revision: run.machine.revision,
      phases,
    },
  ];
  return base;
}
