/**
 * The fake Gemini upstream as a process of its own, so that the load generator, the servers under
 * test and the upstream never share an event loop. Prints `FAKE_UPSTREAM_PORT=<port>` once ready.
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/upstream_server.ts --delay-ms=0 --chunk-delay-ms=10`
 * @module
 */
import { startFakeUpstream } from "../tests/support/fake_upstream/mod.ts";

/** How the benchmark's upstream behaves. */
export interface UpstreamFlags {
  /** Delay before every response's headers, ms. */
  delayMs: number;
  /** Chunks per streamGenerateContent (and OpenAI `stream: true`) reply. */
  streamChunks: number;
  /** Pause between two streamed chunks, ms. */
  chunkDelayMs: number;
}

/**
 * Reads `--name=value` flags.
 * @param args Command-line arguments.
 * @returns The flags, defaulted.
 */
export function parseUpstreamFlags(args: string[]): UpstreamFlags {
  const get = (name: string, fallback: number) => {
    const raw = args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
    return raw === undefined ? fallback : Number(raw);
  };
  return {
    delayMs: get("delay-ms", 0),
    streamChunks: get("stream-chunks", 20),
    chunkDelayMs: get("chunk-delay-ms", 10),
  };
}

if (import.meta.main) {
  const flags = parseUpstreamFlags(Deno.args);
  // gzip off: wrk sends no accept-encoding, but Deno's fetch does, and compressing in the fake
  // would charge the proxied rows for upstream CPU the direct rows never pay.
  const fake = await startFakeUpstream({ ...flags, gzip: false });
  // The fake records every request for tests; a benchmark sends millions, so the record is
  // dropped twice a second to keep the upstream's memory (and GC) out of the figures.
  const timer = setInterval(() => fake.reset(), 500);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, async () => {
      clearInterval(timer);
      await fake.close();
      Deno.exit(0);
    });
  }
  console.log(`FAKE_UPSTREAM_PORT=${fake.port}`);
}
