/**
 * Runs the bundled Worker in real workerd (npm `miniflare`) for tests and benchmarks: the bundle
 * is built once per process with the same code as `deno task build:worker`, into a temp folder.
 * @module
 */
import { Miniflare } from "miniflare";
import type { Readable } from "node:stream";
import { buildWorker } from "./build.ts";

/** Options of {@linkcode startWorker}. */
export interface WorkerOptions {
  /** The Worker's bindings (vars and secrets). */
  bindings: Record<string, string>;
  /** `request.cf.colo` of every request (default `SJC`). */
  colo?: string;
  /** Port to listen on (default: any free one). */
  port?: number;
}

/** A Worker running in workerd. */
export interface RunningWorker {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Lines the Worker wrote to stdout and stderr. */
  logs: string[];
  /** Milliseconds from start until workerd was ready. */
  readyMs: number;
  /** Stops workerd. */
  close(): Promise<void>;
}

let bundle: Promise<string> | null = null;

/** Builds the bundle once per process; resolves to its path. */
export function workerBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-worker-" });
    return (await buildWorker({ outFile: `${dir}/worker.mjs` })).outFile;
  })();
  return bundle;
}

/**
 * Starts the bundled Worker in workerd, reachable on 127.0.0.1; its outbound fetches may reach
 * servers on the loopback interface (the fake upstream, other deployments).
 * @param options Bindings, colo and port.
 * @throws {Error} When workerd cannot start: tests fail rather than skip.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const scriptPath = await workerBundle();
  const logs: string[] = [];
  const collect = (stream: Readable) =>
    stream.on("data", (chunk: Uint8Array | string) => {
      for (const line of String(chunk).split("\n")) if (line.trim()) logs.push(line);
    });
  const started = performance.now();
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: scriptPath.slice(0, scriptPath.lastIndexOf("/")),
    compatibilityDate: "2025-09-01",
    bindings: options.bindings,
    host: "127.0.0.1",
    port: options.port ?? 0,
    cf: { colo: options.colo ?? "SJC" },
    // Outbound fetches use Miniflare's default "internet" network, which allows private
    // addresses, loopback included: the Worker reaches the fake upstream and the other test
    // deployments on 127.0.0.1 directly, with no proxy in between that could buffer a stream.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  return {
    url: url.origin,
    logs,
    readyMs: performance.now() - started,
    close: () => mf.dispose(),
  };
}
