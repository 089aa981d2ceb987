/**
 * Shapes of what a run measured, shared by the runner and the report.
 * @module
 */
import type { MachineInfo } from "./_machine.ts";
import type { SeedInfo } from "./_seed_logs.ts";
import type { Route, TargetKind } from "./_targets.ts";
import type { FixedLoadResult } from "./fixed_load.ts";
import type { FloodResult } from "./model_flood.ts";
import type { PickRow } from "./pick_key.ts";
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
  /**
   * Time after the last round until the proxy had written its queued logs (`/healthz`), ms, and
   * the CPU it used over the next 3 s, % of one core: idle with nothing left to write.
   * Absent in results of older harnesses.
   */
  drainMs?: number | null;
  settledIdleCpuPct?: number | null;
  /**
   * Deno KV writes during the measured rounds (`bench/proxy_counted.ts`): atomic commits, the
   * mutations in them, and the requests served meanwhile. Absent in results of older harnesses.
   */
  kvWrites?: { commits: number; mutations: number; requests: number } | null;
}

/** Store reads of an idle proxy (bench/proxy_counted.ts). */
export interface IdleReads {
  /** Idle window, s. */
  windowS: number;
  /** Store round trips in the window. */
  reads: number;
  /** The same, scaled to one minute. */
  perMinute: number;
  /** By kind. */
  counts: { get: number; getMany: number; list: number; listed: number; watch: number };
}

/** Key-pick micro benchmark (bench/pick_key.ts), in the harness's process. */
export interface PickKeyResult {
  /** ns per pick, per strategy and pool size. */
  rows: PickRow[];
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** Gemini Proxy on an empty store or on one holding the seeded logs. */
export interface LogVolumeCell {
  /** Log records in the store when the proxy started. */
  records: number;
  /** Start-up time until the port answered, the longest of the rounds, ms. */
  startupMs: number;
  /** One wrk run per round (rounds alternate between the stores). */
  rounds: WrkResult[];
  /** Share of the CPUs used by processes outside the run during each round (0-1). */
  foreignCpu: (number | null)[];
  /** Peak RSS over the rounds, MB. */
  peakMb: number | null;
  /** Log records the proxy dropped, summed over the rounds (from /healthz). */
  dropped: number;
}

/** Stats API timings for one range and grouping, on the seeded store. */
export interface StatsRow {
  /** `24h`, `7d`, `30d`. */
  range: string;
  /** `none`, `model`. */
  group: string;
  /** Calls timed (after one untimed first call). */
  calls: number;
  /** The first call, HTTP round trip, ms. */
  firstMs: number;
  /** HTTP round trip of the timed calls, median and max, ms. */
  httpP50Ms: number;
  /** Same, worst. */
  httpMaxMs: number;
  /** The server's own `queryMs`, median and max. */
  queryP50Ms: number;
  /** Same, worst. */
  queryMaxMs: number;
  /** Requests the answer counts over the range (a sanity check of what was read). */
  requests: number;
  /** Series and buckets in the answer. */
  series: number;
  /** Buckets per series. */
  buckets: number;
}

/** Stats query times on the store holding the seeded logs. */
export interface StatsResult {
  /** Timings per range and grouping. */
  rows: StatsRow[];
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** Requests answered against log records stored, after a load and a flush. */
export interface LoggedCheck {
  /** 2xx responses the client counted. */
  served: number;
  /** Other responses the client counted (each is logged too). */
  badStatus: number;
  /** Requests that got no response at all. */
  failed: number;
  /** Sum of `gemini_proxy_requests_total` on /metrics. */
  metricRequests: number | null;
  /** `gemini_proxy_logs_written_total`. */
  metricWritten: number | null;
  /** `gemini_proxy_logs_dropped_total`. */
  metricDropped: number | null;
  /** Records listed by paging `GET /admin/api/logs` (null when not paged). */
  apiCount: number | null;
  /** Log records in the KV file, counted after the proxy stopped. */
  kvCount: number | null;
  /** Time from the last response until /healthz showed an empty log queue, ms. */
  flushMs: number;
  /** Whether served + other responses == records (all three counts) and nothing was dropped. */
  ok: boolean;
}

/** A fixed number of requests, then the log check. */
export interface LoggedResult {
  /** What the load client saw. */
  load: FixedLoadResult;
  /** Counts compared. */
  check: LoggedCheck;
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** The same streams held open against a baseline target (no log check). */
export interface HoldBaseline {
  /** `direct` (the upstream itself) or `bare` (the bare Deno proxy). */
  target: TargetKind;
  /** What the stream client measured. */
  result: StreamResult;
  /** Highest RSS sampled while streams were open, MB (null for the upstream itself). */
  rssOpenMb: number | null;
  /** Most descriptors sampled while open. */
  fdsOpen: number | null;
  /** VmHWM over the hold, MB. */
  peakMb: number | null;
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** Many streams held open at once through Gemini Proxy. */
export interface HoldResult {
  /** Streams opened at once. */
  streams: number;
  /** Chunks per stream and the pause between them at the upstream, ms. */
  chunks: number;
  /** Pause between chunks, ms. */
  chunkDelayMs: number;
  /** What the stream client measured. */
  result: StreamResult;
  /** Proxy RSS before the streams, MB. */
  rssBeforeMb: number | null;
  /** Highest RSS sampled (every 250 ms) while streams were open, MB. */
  rssOpenMb: number | null;
  /** VmHWM over the whole hold, MB. */
  peakMb: number | null;
  /** RSS a second after the last stream ended, MB. */
  rssAfterMb: number | null;
  /** Proxy file descriptors before, at most while open, and after. */
  fdsBefore: number | null;
  /** Most descriptors sampled while open. */
  fdsOpen: number | null;
  /** A second after the last stream. */
  fdsAfter: number | null;
  /** Of those, sockets to the upstream (idle connections kept by the proxy's fetch pool). */
  upstreamSocketsAfter: number | null;
  /** Log check after the streams (every stream is a request). */
  check: LoggedCheck;
  /** The same streams straight at the upstream and through the bare proxy. */
  baselines?: HoldBaseline[];
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** A long run of Gemini Proxy at the benchmark's rate, for memory and descriptor flatness. */
export interface SoakResult {
  /** Length, s. */
  seconds: number;
  /** Requests in flight (connections). */
  connections: number;
  /** The command that produced it and when (soaks of several runs are kept side by side). */
  command: string;
  /** ISO date. */
  startedAt: string;
  /** What the load client saw. */
  load: FixedLoadResult;
  /** Samples every 5 s: seconds since the load started, RSS (MB), open descriptors. */
  samples: { atS: number; rssMb: number; fds: number | null }[];
  /** Proxy RSS, descriptors and sockets to the upstream before the load, after a warm-up. */
  before: { rssMb: number | null; fds: number | null; upstreamSockets?: number | null };
  /** Same, a second after the load ended. */
  after: { rssMb: number | null; fds: number | null; upstreamSockets?: number | null };
  /** Served against logged at the end. */
  check: LoggedCheck;
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** One flood of the invented-models phase. */
export interface ModelFloodRow {
  /** Every request for one real model, or each request naming its own invented model. */
  label: "one real model" | "invented names";
  /** What the load client saw. */
  flood: FloodResult;
  /** Proxy RSS after the previous load and a rest, MB. */
  rssBeforeMb: number;
  /** Proxy RSS after this flood and a rest, MB. */
  rssAfterMb: number;
  /** Lines of /metrics before. */
  metricsLinesBefore: number;
  /** Lines of /metrics after. */
  metricsLinesAfter: number;
  /** Share of the CPUs used by processes outside the run meanwhile (0-1). */
  foreignCpu: number | null;
}

/** What invented model names cost the proxy. */
export interface InventedModelsResult {
  /** Gemini keys configured. */
  keys: number;
  /** Requests per flood. */
  requests: number;
  /** Requests in flight. */
  concurrency: number;
  /** Warm-up requests for the real model, then with invented names the floods never use. */
  warmup: { real: number; invented: number };
  /** The real-model flood, then the invented-names flood. */
  rows: ModelFloodRow[];
  /** When the phase ran (ISO). */
  startedAt: string;
  /** Code measured. */
  revision: string;
  /** The command that ran it. */
  command: string;
}

/** A later run with `--only` whose sections replaced those of the run the report started from. */
export interface MergedRun {
  /** Its command. */
  command: string;
  /** ISO date. */
  startedAt: string;
  /** Wall time, s. */
  elapsedS: number;
  /** Other processes' CPU share over it. */
  foreignCpu: number | null;
  /** Code measured. */
  revision: string;
  /** Phases it measured. */
  phases: string[];
}

/** A target's first seconds of load, at 32 connections, right after start-up. */
export interface ColdCell {
  /** Upstream delay, ms. */
  delayMs: number;
  /** Route. */
  route: Route;
  /** Target. */
  target: TargetKind;
  /** How long, s. */
  seconds: number;
  /** Requests per second over it. */
  rps: number;
  /** p99 latency over it, ms. */
  p99Ms: number;
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
  /** wrk seconds of warm-up per target before its cells (absent in older results: 1). */
  warmupS?: number;
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
  /** Store reads of an idle proxy (absent in results of older harnesses). */
  idleReads?: IdleReads | null;
  /** RSS of each server right after start, before any load, MB. */
  idle: { delayMs: number; target: TargetKind; rssMb: number }[];
  /** Each target's first seconds of load after start-up (the start of its warm-up). */
  cold: ColdCell[];
  /** Key-pick micro benchmark. */
  pickKey: PickKeyResult | null;
  /** The seeded store behind the log-volume and stats rows. */
  seed: SeedInfo | null;
  /** Empty store vs seeded store, [empty, seeded]. */
  logVolume: LogVolumeCell[];
  /** Stats query times. */
  stats: StatsResult | null;
  /** Fixed request count, served vs logged. */
  logged: LoggedResult | null;
  /** Streams held open at once. */
  hold: HoldResult | null;
  /** Invented model names. */
  inventedModels: InventedModelsResult | null;
  /** Soaks, shortest first (the full run's and any longer one merged in). */
  soaks: SoakResult[];
  /** Later `--only` runs merged into this report. */
  merged: MergedRun[];
  /** Wall time of each phase of this run, s. */
  phaseS: Record<string, number>;
  /** 1-minute load average when the run started. */
  loadAtStart: number | null;
  /** Share of all CPUs used by processes outside the run, over the run (0-1). */
  foreignCpu: number | null;
  /** Things the reader should know about this run. */
  notes: string[];
}
