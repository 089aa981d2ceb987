/**
 * Helpers for the deploy tests: a fresh clone of the repository's committed HEAD (what a host
 * builds from git: nothing ignored, nothing built), shell commands run in it, and an entry point
 * started as a host starts it.
 * @module
 */

/** The checkout these tests belong to. */
export const REPO = new URL("../../", import.meta.url).pathname;

/** Whether the checkout is a git repository with a commit to clone (not a bare copy of the files). */
export const HAS_GIT_HEAD = (() => {
  try {
    const { code } = new Deno.Command("git", {
      args: ["-C", REPO, "rev-parse", "--verify", "HEAD"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return code === 0;
  } catch {
    return false;
  }
})();

/** A fresh clone in a temporary folder. */
export interface FreshClone {
  /** The clone's folder, with a trailing slash. */
  dir: string;
  /** Deletes the clone and the temporary folder around it. */
  remove(): Promise<void>;
}

/**
 * Clones the committed HEAD of this checkout (uncommitted changes are not in it).
 * @returns The clone.
 */
export async function freshClone(): Promise<FreshClone> {
  const parent = await Deno.makeTempDir({ prefix: "gemini-proxy-clone-" });
  const dir = `${parent}/repo/`;
  await run("git", ["clone", "--quiet", "--no-hardlinks", REPO, dir], { cwd: parent });
  return { dir, remove: () => Deno.remove(parent, { recursive: true }) };
}

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** Working folder. */
  cwd: string;
  /** The whole environment of the command (nothing else is inherited when given). */
  env?: Record<string, string>;
}

/**
 * Runs a program to its end.
 * @param program The program.
 * @param args Its arguments.
 * @param options Working folder and environment.
 * @returns Its standard output and error, merged in one text.
 * @throws {Error} With that text when it exits with a failure.
 */
export async function run(program: string, args: string[], options: RunOptions): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`${program} ${args.join(" ")} exited with ${code}:\n${text}`);
  return text;
}

/**
 * What a process needs from this machine to find its tools and caches: `PATH`, `HOME` and, when
 * set, `DENO_DIR` (the npm packages already cached here; a host keeps its own cache).
 */
export function machineEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return env;
}

/** A running entry point. */
export interface RunningEntry {
  /** Everything it printed so far (standard output and error). */
  output(): string;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Starts a long-running command and waits until its output matches `ready`.
 * @param command The command, spawned with piped output.
 * @param ready What its output shows once it serves.
 * @returns The running process.
 * @throws {Error} With its output when it exits before that.
 */
export async function waitUntilReady(command: Deno.Command, ready: RegExp): Promise<RunningEntry> {
  const child = command.spawn();
  let text = "";
  let serving = () => {};
  const isServing = new Promise<"serving">((resolve) => serving = () => resolve("serving"));
  const collect = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (ready.test(text)) serving();
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  // A safety net against a hung start, far longer than any start takes.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => timer = setTimeout(() => resolve("hung"), 60_000));
  const first = await Promise.race([isServing, child.status, hung]).finally(() =>
    clearTimeout(timer)
  );
  if (first === "hung") child.kill("SIGKILL");
  if (first !== "serving") {
    const status = await child.status;
    await drained;
    throw new Error(`the entry point exited with ${status.code} before serving:\n${text}`);
  }
  return {
    output: () => text,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const status = await child.status;
      await drained;
      return status;
    },
  };
}
