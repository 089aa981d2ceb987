/**
 * The benchmark's command-line options.
 * @module
 */
import { ROOT } from "./_process.ts";

/** Options of one run, from the command line. */
export interface BenchOptions {
  /** wrk seconds per cell. */
  durationS: number;
  /** wrk seconds of warm-up per target before its cells. */
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
  /** Memory-flatness run length, s (0: none). */
  soakS: number;
  /** Whether to run Portkey. */
  portkey: boolean;
  /** Report file. */
  out: string;
  /** Phases to run: `main` (every target and delay), `scaling`, `soak` (when `soakS` > 0). */
  only: Set<string>;
  /** Re-render the report from a results JSON of an earlier run instead of measuring. */
  render: string | null;
}

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
    durationS: quick ? 1 : 5,
    warmupS: 1,
    connections: [1, 32, 256],
    delays: quick ? [0] : [0, 50],
    streamConcurrency: 16,
    streamMs: quick ? 1000 : 3000,
    scaleKeys: [10, 10_000],
    soakS: 0,
    portkey: true,
    only: new Set(["main", "scaling", "soak"]),
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
    const seconds = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes whole seconds >= 1`);
      return n;
    };
    if (name === "--quick") continue;
    else if (name === "--duration") options.durationS = seconds();
    else if (name === "--soak") options.soakS = seconds();
    else if (name === "--no-portkey") options.portkey = false;
    else if (name === "--out") options.out = value();
    else if (name === "--only") options.only = new Set(value().split(","));
    else if (name === "--render") options.render = value();
    else {
      throw new Error(
        `Unknown flag "${arg}" (known: --duration, --quick, --soak, --only, --no-portkey, --out, ` +
          "--render)",
      );
    }
  }
  return options;
}
