/**
 * Runs `supabase/functions/proxy/index.ts` in a child Deno process, the way Supabase's edge
 * runtime runs it: `Deno.serve` at the top level and only the function's secrets in the
 * environment. `DENO_SERVE_ADDRESS` makes it listen on a free loopback port.
 * @module
 */

const ENTRY = new URL("../../supabase/functions/proxy/index.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000;

/** A running function. */
export interface FunctionProcess {
  /** `http://127.0.0.1:<port>`: the function serves under `/functions/v1/proxy`. */
  origin: string;
  /** Every line it printed (stdout and stderr). */
  logs: string[];
  /** Stops it and waits for its output to end. */
  close(): Promise<void>;
}

/**
 * Starts the function with an environment of its own.
 * @param env The function's secrets and settings.
 * @returns The running function, once it listens.
 * @throws {Error} When it exits or does not listen in time, with its output.
 */
export async function startFunctionProcess(env: Record<string, string>): Promise<FunctionProcess> {
  const inherited: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) inherited[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", ENTRY],
    cwd: ROOT,
    clearEnv: true,
    env: {
      ...inherited,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  let resolveListening!: (origin: string) => void;
  const listening = new Promise<string>((resolve) => resolveListening = resolve);
  function onLine(line: string): void {
    logs.push(line);
    const match = line.match(/Listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (match) resolveListening(match[1]!);
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
    listening.then((origin) => ({ origin })),
    failed.then((reason) => ({ reason })),
  ]);
  clearTimeout(timer);

  async function stop(): Promise<void> {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await status;
    await drained;
  }

  if ("reason" in outcome) {
    await stop();
    throw new Error(`The Edge Function ${outcome.reason}:\n${logs.join("\n")}`);
  }
  return { origin: outcome.origin, logs, close: stop };
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
