/**
 * Runs a Node.js script in a child process for tests (the built Node.js server, the Edge Runtime
 * emulator running the Vercel function): only the given environment plus what Node needs to
 * start, every output line kept, and the base URL it prints once listening.
 * @module
 */

const START_TIMEOUT_MS = 60_000;

/** Options of {@linkcode startNodeProcess}. */
export interface NodeProcessOptions {
  /** The script and its arguments, as passed to `node`. */
  args: string[];
  /** The process's environment (added to `PATH`, `HOME` and `TMPDIR`). */
  env: Record<string, string>;
  /** Working folder (default: the temp folder). */
  cwd?: string;
  /** Matches the line announcing the base URL, which is its first group. */
  listening: RegExp;
}

/** A running Node.js process. */
export interface NodeProcess {
  /** The base URL it printed. */
  url: string;
  /** Every line it printed (stdout and stderr). */
  logs: string[];
  /** Sends SIGTERM and waits for it to exit and its output to end; resolves to the exit code. */
  close(): Promise<number>;
}

/**
 * Starts `node` with the arguments and waits until it prints where it listens.
 * @param options Script, environment and the line to wait for.
 * @returns The running process.
 * @throws {Error} When it exits or does not listen in time, with its output.
 */
export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const inherited: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) inherited[name] = value;
  }
  const child = new Deno.Command("node", {
    args: options.args,
    cwd: options.cwd ?? Deno.env.get("TMPDIR") ?? "/tmp",
    clearEnv: true,
    env: { ...inherited, NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  let resolveListening!: (url: string) => void;
  const listening = new Promise<string>((resolve) => resolveListening = resolve);
  function onLine(line: string): void {
    logs.push(line);
    const match = line.match(options.listening);
    if (match?.[1]) resolveListening(match[1]);
  }
  const drained = Promise.all([readLines(child.stdout, onLine), readLines(child.stderr, onLine)]);
  const status = child.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = Promise.race([
    status.then((s) => `exited with code ${s.code}`),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("did not listen in time"), START_TIMEOUT_MS);
    }),
  ]);
  const outcome = await Promise.race([
    listening.then((url) => ({ url })),
    failed.then((reason) => ({ reason })),
  ]);
  clearTimeout(timer);

  async function stop(): Promise<number> {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const { code } = await status;
    await drained;
    return code;
  }

  if ("reason" in outcome) {
    await stop();
    throw new Error(`node ${options.args.join(" ")} ${outcome.reason}:\n${logs.join("\n")}`);
  }
  return { url: outcome.url, logs, close: stop };
}

/**
 * Runs `node` with the arguments to its end.
 * @param options Script and environment (`listening` is not used).
 * @returns Its exit code and every line it printed.
 */
export async function runNodeProcess(
  options: Omit<NodeProcessOptions, "listening">,
): Promise<{ code: number; logs: string[] }> {
  const child = new Deno.Command("node", {
    args: options.args,
    cwd: options.cwd ?? Deno.env.get("TMPDIR") ?? "/tmp",
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  await Promise.all([
    readLines(child.stdout, (line) => logs.push(line)),
    readLines(child.stderr, (line) => logs.push(line)),
  ]);
  return { code: (await child.status).code, logs };
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  }
  if (rest) onLine(rest);
}
