/**
 * Running wrk: finding or installing it, and reading its results.
 * @module
 */
import { ROOT } from "./_process.ts";

/** One HTTP request as wrk sends it, over and over. */
export interface LoadRequest {
  /** Full URL on 127.0.0.1. */
  url: string;
  /** Method (POST for every scenario today). */
  method: string;
  /** Request headers. */
  headers: Record<string, string>;
  /** Request body. */
  body: string;
}

/** What wrk measured for one cell. */
export interface WrkResult {
  /** Completed requests. */
  requests: number;
  /** Completed requests per second. */
  rps: number;
  /** Latency percentiles, ms. */
  p50Ms: number;
  /** 90th percentile, ms. */
  p90Ms: number;
  /** 99th percentile, ms. */
  p99Ms: number;
  /** Worst latency, ms. */
  maxMs: number;
  /** Response bytes (headers and body) per request. */
  bytesPerRequest: number;
  /** Socket errors, timeouts and non-2xx/3xx responses, summed. */
  errors: number;
  /** Non-2xx/3xx responses alone. */
  badStatus: number;
}

/**
 * Makes sure `wrk` is on the PATH: installs the Debian package when running as root.
 * @throws {Error} With install instructions when it is missing and cannot be installed.
 */
export async function ensureWrk(): Promise<void> {
  if (await hasWrk()) return;
  if (Deno.uid() !== 0) {
    throw new Error("wrk is not installed: run `sudo apt-get install -y wrk` and try again");
  }
  console.log("wrk is missing: installing the Debian package (apt-get install -y wrk)");
  for (const args of [["install", "-y", "wrk"], ["update"], ["install", "-y", "wrk"]]) {
    const { success } = await new Deno.Command("apt-get", {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (success && args[0] === "install") break;
  }
  if (!(await hasWrk())) throw new Error("wrk could not be installed: `apt-get install -y wrk`");
}

/**
 * Runs wrk against one URL.
 * @param request What to send.
 * @param options Connections, duration (s) and timeout (s).
 * @returns The measured figures.
 * @throws {Error} When wrk fails or prints no summary.
 */
export async function runWrk(
  request: LoadRequest,
  options: { connections: number; seconds: number; timeoutSeconds?: number },
): Promise<WrkResult> {
  const threads = Math.min(2, options.connections);
  const headers = Object.entries(request.headers).map(([k, v]) => `${k}: ${v}`).join("\n");
  const output = await new Deno.Command("wrk", {
    args: [
      `--threads=${threads}`,
      `--connections=${options.connections}`,
      `--duration=${options.seconds}s`,
      `--timeout=${options.timeoutSeconds ?? 10}s`,
      "--latency",
      `--script=${ROOT}/bench/wrk_post.lua`,
      request.url,
    ],
    env: { WRK_METHOD: request.method, WRK_BODY: request.body, WRK_HEADERS: headers },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!output.success || !line) {
    throw new Error(`wrk failed against ${request.url}:\n${text}\n${decode(output.stderr)}`);
  }
  const raw = JSON.parse(line.slice("WRK_JSON ".length)) as Record<string, number>;
  const n = (name: string) => raw[name] ?? 0;
  const errors = n("connect") + n("read") + n("write") + n("status") + n("timeout");
  return {
    requests: n("requests"),
    rps: n("requests") / (n("duration_us") / 1e6),
    p50Ms: n("p50_us") / 1000,
    p90Ms: n("p90_us") / 1000,
    p99Ms: n("p99_us") / 1000,
    maxMs: n("max_us") / 1000,
    bytesPerRequest: n("requests") > 0 ? n("bytes") / n("requests") : 0,
    errors,
    badStatus: n("status"),
  };
}

async function hasWrk(): Promise<boolean> {
  try {
    // `wrk --version` exits 1 after printing its banner: spawning at all means it exists.
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
