/**
 * Taking one measurement: waiting for a quiet machine, accounting for other processes' CPU,
 * checking a target answers properly, running the stream client.
 * @module
 */
import {
  clockTicksPerSecond,
  cpuSnapshot,
  foreignCpuShare,
  processTicks,
  waitForQuiet,
} from "./_machine.ts";
import { ROOT, runningPids, type Server } from "./_process.ts";
import type { LoadRequest } from "./_wrk.ts";
import type { FixedLoadResult, FixedLoadSpec } from "./fixed_load.ts";
import type { StreamResult, StreamSpec } from "./stream_client.ts";

/** Longest the whole run may wait for other processes to calm down, ms. */
let quietBudgetMs = 90_000;

/**
 * Runs one measurement once the machine is quiet (other sessions may share it), and reports how
 * much CPU processes outside the run took meanwhile: a busy box lowers every figure.
 */
export async function measured<T>(
  run: () => Promise<T>,
): Promise<{ value: T; foreignCpu: number | null }> {
  const t = performance.now();
  await waitForQuiet(runningPids(), { maxWaitMs: Math.min(30_000, quietBudgetMs) });
  quietBudgetMs = Math.max(0, quietBudgetMs - (performance.now() - t));
  const pids = runningPids();
  const before = cpuSnapshot(pids);
  const value = await run();
  const after = cpuSnapshot(pids);
  return { value, foreignCpu: before && after ? foreignCpuShare(before, after) : null };
}

/**
 * A console suffix naming the other processes' CPU share when it matters.
 * @param foreignCpu Share (0-1).
 */
export function busy(foreignCpu: number | null): string {
  return foreignCpu !== null && foreignCpu > 0.05
    ? `  (other processes: ${(foreignCpu * 100).toFixed(0)}% CPU)`
    : "";
}

/** Sends one request and checks the answer is a real reply: a 401 is fast but proves nothing. */
export async function verify(request: LoadRequest): Promise<string | null> {
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    const text = await response.text();
    if (response.status !== 200) return `status ${response.status}: ${text.slice(0, 300)}`;
    if (!text.includes("Echo: word0")) return `unexpected reply: ${text.slice(0, 300)}`;
    return null;
  } catch (error) {
    return firstLine(error);
  }
}

/**
 * Runs bench/stream_client.ts as its own process and reads its result line.
 * @param spec Target and load.
 */
export async function runStreamClient(spec: StreamSpec): Promise<StreamResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", `${ROOT}/bench/stream_client.ts`, JSON.stringify(spec)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((l) => l.startsWith("STREAM_JSON "));
  if (!output.success || !line) {
    throw new Error(`stream client failed:\n${text}\n${new TextDecoder().decode(output.stderr)}`);
  }
  return JSON.parse(line.slice("STREAM_JSON ".length)) as StreamResult;
}

/**
 * Runs bench/fixed_load.ts as its own process and reads its result line.
 * @param spec Target, concurrency and request count or duration.
 */
export async function runFixedLoad(spec: FixedLoadSpec): Promise<FixedLoadResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", `${ROOT}/bench/fixed_load.ts`, JSON.stringify(spec)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((l) => l.startsWith("FIXED_JSON "));
  if (!output.success || !line) {
    throw new Error(`load client failed:\n${text}\n${new TextDecoder().decode(output.stderr)}`);
  }
  return JSON.parse(line.slice("FIXED_JSON ".length)) as FixedLoadResult;
}

/** The end of a server's output, for error messages. */
export function tail(server: Server | null): string {
  return server?.output().slice(-2000) ?? "";
}

/** Pads a console column. */
export function pad(text: string, width: number): string {
  return text.padEnd(width);
}

/** Formats a number for the console. */
export function fixed(n: number, digits: number): string {
  return n.toFixed(digits);
}

/** First line of an error's message. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

/** CPU a process uses over `ms` with no load, as % of one core. */
export async function idleCpu(pid: number, ms: number): Promise<number> {
  const hz = await clockTicksPerSecond();
  const before = processTicks(String(pid));
  await new Promise((r) => setTimeout(r, ms));
  return ((processTicks(String(pid)) - before) / hz / (ms / 1000)) * 100;
}
