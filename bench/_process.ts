/**
 * Subprocess handling for the benchmark: every server under test runs in its own process group,
 * so its memory can be read from /proc and nothing it starts can outlive the run.
 * @module
 */

/** How to start one server. */
export interface SpawnOptions {
  /** Label used in errors and the report. */
  name: string;
  /** Executable. */
  cmd: string;
  /** Arguments. */
  args: string[];
  /** Environment added to a minimal base (the harness's own environment is not inherited). */
  env?: Record<string, string>;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Pattern whose first group is the listening port, read from stdout (for `port: 0` servers). */
  portPattern?: RegExp;
  /** The port the server was told to use, polled until it accepts connections. */
  port?: number;
  /** Give up after this long, ms (default 60 s). */
  readyTimeoutMs?: number;
}

/** A started server. */
export interface Server {
  /** Label. */
  name: string;
  /** Process id, also its process group id. */
  pid: number;
  /** Port it listens on, on 127.0.0.1. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
  /** Kills its process group and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<Server>();

/** Root of the repository (bench/ lives directly under it). */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Starts a server in a new session (`setsid`), so that it and all its children share one process
 * group that {@linkcode Server.stop} can kill at once.
 * @param options Command, environment and how to tell it is ready.
 * @returns The server, once it accepts connections.
 * @throws {Error} When it exits or is not ready in time (its output tail is in the message).
 */
export async function spawnServer(options: SpawnOptions): Promise<Server> {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "LANG"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const child = new Deno.Command("setsid", {
    args: [options.cmd, ...options.args],
    cwd: options.cwd ?? ROOT,
    env: { ...base, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let tail = "";
  let portSeen: ((port: number) => void) | null = null;
  const portFromOutput = new Promise<number>((resolve) => (portSeen = resolve));
  async function collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    // Always drained: a full pipe would stall the server mid-benchmark.
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
        const match = options.portPattern?.exec(tail);
        if (match?.[1]) portSeen?.(Number(match[1]));
      }
    } catch {
      // The process went away.
    }
  }
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  let stopped = false;
  const server: Server = {
    name: options.name,
    pid: child.pid,
    port: 0,
    url: "",
    output: () => tail,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      killGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 3000);
      await status;
      clearTimeout(timer);
      // Children that ignored SIGTERM after their leader exited.
      killGroup(child.pid, "SIGKILL");
      await drained;
    },
  };
  running.add(server);

  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  try {
    const port = await withTimeout(
      Promise.race([
        options.port !== undefined ? waitForPort(options.port, () => exited) : portFromOutput,
        status.then((s) => {
          throw new Error(`exited with code ${s.code} before it was ready`);
        }),
      ]),
      timeoutMs,
      `not ready after ${timeoutMs} ms`,
    );
    server.port = port;
    server.url = `http://127.0.0.1:${port}`;
    return server;
  } catch (error) {
    await server.stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${options.name}: ${message}\n--- output ---\n${tail}`);
  }
}

/**
 * Process ids of every server still running.
 * @returns The pids.
 */
export function runningPids(): number[] {
  return [...running].map((s) => s.pid);
}

/** Stops every server still running (used in `finally` and on signals). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/**
 * Finds a free TCP port on 127.0.0.1 (for servers that cannot be told to pick one).
 * @returns A port that was free a moment ago.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resident memory of a process, MB. */
export interface Memory {
  /** Current resident set size. */
  rssMb: number;
  /** Peak resident set size since start or since the last {@linkcode resetPeak}. */
  peakMb: number;
}

/**
 * Reads VmRSS and VmHWM from /proc.
 * @param pid Process id.
 * @returns Memory figures, or null when the process is gone.
 */
export function readMemory(pid: number): Memory | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1]);
    return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/**
 * CPU time a process has used so far, all its threads, user and system, from /proc (Linux counts
 * it in clock ticks of 10 ms).
 * @param pid Process id.
 * @returns Milliseconds, or null when the process is gone.
 */
export function cpuMs(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * Resets a process's peak RSS (VmHWM) so the next reading covers one measurement only.
 * @param pid Process id.
 * @returns Whether the kernel accepted it (needs Linux 4.0+ and permission).
 */
export function resetPeak(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that nothing listens on `port` beyond 127.0.0.1, from /proc/net/tcp{,6}.
 * @param port TCP port.
 * @returns The non-loopback listening addresses found (empty when loopback only).
 */
export function nonLoopbackListeners(port: number): string[] {
  const found: string[] = [];
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [address, localPort] = (cols[1] ?? "").split(":");
      // State 0A is LISTEN.
      if (cols[3] !== "0A" || localPort !== hexPort || !address) continue;
      const loopback = address === "0100007F" ||
        address === "00000000000000000000000001000000" ||
        address === "0000000000000000FFFF00000100007F";
      if (!loopback) found.push(`${file}: ${address}`);
    }
  }
  return found;
}

function killGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitForPort(port: number, gone: () => boolean): Promise<number> {
  while (!gone()) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return port;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("exited before it was ready");
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Open file descriptors of a process (entries of /proc/<pid>/fd): sockets, files, pipes.
 * @param pid Process id.
 * @returns The count, or null when the process is gone or /proc is unreadable.
 */
export function fdCount(pid: number): number | null {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return null;
  }
}

/**
 * How many of a process's open sockets are TCP connections to a given remote port (from its
 * /proc/<pid>/fd links and /proc/net/tcp{,6}): tells an HTTP client's idle keep-alive pool apart
 * from a descriptor leak.
 * @param pid Process id.
 * @param remotePort The peer's port (e.g. the upstream's).
 * @returns The count, or null when /proc is unreadable.
 */
export function socketsTo(pid: number, remotePort: number): number | null {
  try {
    const inodes = new Set<string>();
    for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // Closed meanwhile.
      }
    }
    const hexPort = remotePort.toString(16).toUpperCase().padStart(4, "0");
    let n = 0;
    for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
      let text = "";
      try {
        text = Deno.readTextFileSync(file);
      } catch {
        continue;
      }
      for (const line of text.split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[2]?.endsWith(`:${hexPort}`) && inodes.has(cols[9] ?? "")) n++;
      }
    }
    return n;
  } catch {
    return null;
  }
}
