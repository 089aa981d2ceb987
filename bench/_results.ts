/**
 * Shapes of what a run measured, shared by the runner and the report.
 * @module
 */
import type { MachineInfo } from "./_machine.ts";
import type { Route, TargetKind } from "./_targets.ts";
import type { StreamResult } from "./stream_client.ts";
import type { WrkResult } from "./_wrk.ts";

/** One wrk run: a target, a route, a concurrency, an upstream delay. */
export interface Cell {
  /** Upstream delay, ms. */
  delayMs: number;
  /** API surface. */
  route: Route;
  /** Server. */
  target: TargetKind;
  /** wrk connections. */
  connections: number;
  /** wrk's figures. */
  wrk: WrkResult;
  /** Peak RSS of the server process during this cell, MB (null for the upstream itself). */
  peakMb: number | null;
  /** RSS right after the cell, MB. */
  rssMb: number | null;
  /** Share of the CPUs used by processes outside the run during the cell (0-1). */
  foreignCpu: number | null;
}

/** One streaming measurement. */
export interface StreamCell {
  /** Upstream delay, ms. */
  delayMs: number;
  /** API surface. */
  route: Route;
  /** Server. */
  target: TargetKind;
  /** Timings. */
  result: StreamResult;
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** One key-pool scaling measurement. */
export interface ScaleCell {
  /** Gemini keys configured. */
  keys: number;
  /** Start-up time until the port answered, ms. */
  startupMs: number;
  /** One wrk run per round (rounds alternate between pool sizes). */
  rounds: WrkResult[];
  /** Share of the CPUs used by processes outside the run during each round (0-1). */
  foreignCpu: (number | null)[];
  /** Peak RSS over the rounds, MB. */
  peakMb: number | null;
  /** CPU the proxy used while idle for a few seconds after its last round, % of one core. */
  idleCpuPct: number | null;
}

/** An optional long run of Gemini Proxy at high concurrency, for memory flatness. */
export interface SoakResult {
  /** Length, s. */
  seconds: number;
  /** wrk connections. */
  connections: number;
  /** Requests per second over the whole run. */
  rps: number;
  /** Non-2xx responses and socket errors. */
  errors: number;
  /** RSS samples: seconds since start and MB. */
  samples: { atS: number; rssMb: number }[];
}

/** Everything one run produced. */
export interface BenchResults {
  /** When the run started. */
  startedAt: Date;
  /** Wall time of the run, s. */
  elapsedS: number;
  /** The command line, as typed. */
  command: string;
  /** Machine and tools. */
  machine: MachineInfo;
  /** wrk seconds per cell. */
  durationS: number;
  /** Connections used per cell. */
  connections: number[];
  /** Upstream delays used. */
  delays: number[];
  /** Streams in flight in the stream measurement. */
  streamConcurrency: number;
  /** Chunks per streamed reply, and the upstream's pause between them, ms. */
  stream: { chunks: number; chunkDelayMs: number };
  /** Gemini keys of the main Gemini Proxy rows. */
  keys: number;
  /** Portkey's version, or why it did not run. */
  portkey: { version: string } | { skipped: string };
  /** Whether peak RSS was reset per cell (else it is the process's lifetime peak). */
  peakPerCell: boolean;
  /** wrk cells. */
  cells: Cell[];
  /** Streaming cells. */
  streams: StreamCell[];
  /** Key-pool scaling. */
  scaling: ScaleCell[];
  /** RSS of each server right after start, before any load, MB. */
  idle: { delayMs: number; target: TargetKind; rssMb: number }[];
  /** Memory flatness run, when asked for. */
  soak: SoakResult | null;
  /** 1-minute load average when the run started. */
  loadAtStart: number | null;
  /** Share of all CPUs used by processes outside the run, over the run (0-1). */
  foreignCpu: number | null;
  /** Things the reader should know about this run. */
  notes: string[];
}
