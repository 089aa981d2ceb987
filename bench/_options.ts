/**
 * The benchmark's command-line options.
 * @module
 */
import { ROOT } from "./_process.ts";

/**
 * The first seconds of each target's warm-up, in the main phase, are kept as its cold start:
 * what a fresh process serves while its JIT is still compiling.
 */
export const COLD_S = 4;

/** Options of one run, from the command line. */
export interface BenchOptions {
  /** wrk seconds per cell. */
  durationS: number;
  /**
   * wrk seconds of warm-up per target before its cells: long enough for the JIT to compile the
   * hot path (a cold process serves less while it does; see {@linkcode COLD_S}).
   */
  warmupS: number;
  /** Connection levels. */
  connections: number[];
  /** Upstream delays, ms. */
  delays: number[];
  /** Streams in flight during the stream measurement. */
  streamConcurrency: number;
  /** How long each stream measurement runs, ms. */
  streamMs: number;
  /** Key pool sizes compared in the scaling rows. */
  scaleKeys: [number, number];
  /** Idle window of the idle-reads row, s (its reads are scaled to a minute). */
  idleS: number;
  /** Soak length, s (0: none). */
  soakS: number;
  /** Requests in flight during the soak. */
  soakConnections: number;
  /** Log records seeded for the log-volume and stats rows. */
  seedRecords: number;
  /** Requests of the served-vs-logged check. */
  loggedRequests: number;
  /** Streams held open at once, their chunk count and the pause between chunks, ms. */
  hold: { streams: number; chunks: number; chunkDelayMs: number };
  /** Timed calls per stats query. */
  statsCalls: number;
  /** Requests per flood of the invented-models phase, and the proxy's key count there. */
  invented: { requests: number; keys: number };
  /** Sequential requests per token and store in the token-limits phase. */
  limitsRequests: number;
  /** Whether to run Portkey. */
  portkey: boolean;
  /** Report file. */
  out: string;
  /** Phases to run, in this order: see {@linkcode PHASES}. */
  only: Set<string>;
  /** Re-render the report from a results JSON of an earlier run instead of measuring. */
  render: string | null;
}

/**
 * Every phase, in the order a run takes them: `pickkey` (key-pick micro benchmark), `main` (every
 * target at every delay), `scaling` (10 vs 10,000 keys; it brings `idle_reads` along),
 * `idle_reads` (store reads of an idle proxy, scaled to a minute), `logvolume` (empty store vs seeded
 * logs), `stats` (stats API on the seeded store), `logged` (a fixed request count, served vs
 * logged), `hold` (many streams held open), `invented_models` (RSS and /metrics growth from
 * distinct invented model names), `soak` (a long run at the benchmark's rate), `limits` (a limited
 * token's hot path against an unlimited one's, on Supabase 50 ms away and on KV).
 */
export const PHASES = [
  "pickkey",
  "main",
  "scaling",
  "idle_reads",
  "logvolume",
  "stats",
  "logged",
  "hold",
  "invented_models",
  "soak",
  "limits",
] as const;

/** Phases whose report section is marked, so an `--only` run can replace it in place. */
export const SECTION_PHASES: readonly string[] = ["invented_models", "limits"];

/** SSE chunks per streamed reply. */
export const STREAM_CHUNKS = 20;
/** Pause between two streamed chunks at the upstream, ms. */
export const CHUNK_DELAY_MS = 10;
/** Gemini keys of the main Gemini Proxy rows (issue 6: rotation over 20 keys). */
export const MAIN_KEYS = 20;

/**
 * Parses the command line.
 * @param args `Deno.args`.
 * @returns The options.
 * @throws {Error} On an unknown flag or a bad number.
 */
export function parseOptions(args: string[]): BenchOptions {
  const quick = args.includes("--quick");
  const options: BenchOptions = {
    // 4 s cells, each target warmed up for 10 s first, keep the default run (every phase) near 15
    // minutes on a 2-core machine.
    durationS: quick ? 1 : 4,
    warmupS: quick ? 1 : 10,
    connections: [1, 32, 256],
    delays: quick ? [0] : [0, 50],
    streamConcurrency: 16,
    streamMs: quick ? 1000 : 2000,
    scaleKeys: [10, 10_000],
    idleS: quick ? 10 : 30,
    soakS: quick ? 10 : 60,
    soakConnections: 32,
    seedRecords: quick ? 10_000 : 100_000,
    loggedRequests: quick ? 1000 : 10_000,
    hold: { streams: quick ? 100 : 1000, chunks: 20, chunkDelayMs: 500 },
    statsCalls: quick ? 5 : 20,
    invented: quick ? { requests: 2000, keys: 1000 } : { requests: 20_000, keys: 10_000 },
    limitsRequests: quick ? 100 : 400,
    portkey: true,
    only: new Set(PHASES),
    render: null,
    out: quick ? `${ROOT}/.bench/BENCH.quick.md` : `${ROOT}/BENCH.md`,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const [name, inline] = arg.split("=", 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    const seconds = (min = 1) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`${name} takes whole seconds >= ${min}`);
      return n;
    };
    if (name === "--quick") continue;
    else if (name === "--duration") options.durationS = seconds();
    else if (name === "--soak") options.soakS = seconds(0);
    else if (name === "--idle") options.idleS = seconds();
    else if (name === "--no-portkey") options.portkey = false;
    else if (name === "--out") options.out = value();
    else if (name === "--only") {
      options.only = new Set(value().split(","));
      const unknown = [...options.only].filter((p) => !(PHASES as readonly string[]).includes(p));
      if (unknown.length > 0) {
        throw new Error(`Unknown phase "${unknown[0]}" (known: ${PHASES.join(", ")})`);
      }
      // The scaling rows and the idle reads answer one question (what a big, quiet pool costs):
      // `--only=scaling` reports both.
      if (options.only.has("scaling")) options.only.add("idle_reads");
    } else if (name === "--render") options.render = value();
    else {
      throw new Error(
        `Unknown flag "${arg}" (known: --duration, --quick, --soak, --idle, --only, --no-portkey, ` +
          "--out, " +
          "--render)",
      );
    }
  }
  return options;
}
