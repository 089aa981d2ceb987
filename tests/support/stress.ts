/**
 * `deno task test:stress`: the whole suite, several times in a row, in a fresh clone of the
 * committed HEAD, while CPU burners keep every core busy. A test that depends on timing fails
 * here; the suite has no retry to hide it.
 *
 * ```sh
 * deno task test:stress                    # 5 runs, one burner per core
 * deno task test:stress --runs=2 --burners=1 --keep
 * ```
 *
 * Each run is `deno task test` in the clone (`deno task build` runs once before). It prints
 * pass or fail and the duration of every run, keeps every run's output in a log file, and exits
 * non-zero when any run failed. The burners (`yes`, writing to /dev/null) are stopped when the
 * script ends, fails or is interrupted; under util-linux's `setpriv` they also die with it if it
 * is killed outright. An interrupt (Ctrl-C, SIGTERM) also kills the run in progress with every
 * process it started.
 * @module
 */

/** Options of a stress run, from the command line. */
export interface StressOptions {
  /** How many times the suite runs. */
  runs: number;
  /** How many CPU burners run meanwhile. */
  burners: number;
  /** Keep the clone afterwards. */
  keep: boolean;
}

/** One run's outcome. */
export interface RunResult {
  run: number;
  passed: boolean;
  ms: number;
  log: string;
  /** Lines naming failed tests, when the run failed. */
  failures: string[];
}

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Reads `--runs=N`, `--burners=N` and `--keep`.
 * @param args Command-line arguments.
 */
export function parseStressArgs(args: string[]): StressOptions {
  const options: StressOptions = {
    runs: 5,
    burners: navigator.hardwareConcurrency || 2,
    keep: false,
  };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2);
    if (name === "--keep" && value === undefined) options.keep = true;
    else if ((name === "--runs" || name === "--burners") && /^\d+$/.test(value ?? "")) {
      options[name === "--runs" ? "runs" : "burners"] = Number(value);
    } else {
      throw new Error(`Unknown argument "${arg}" (use --runs=N, --burners=N, --keep)`);
    }
  }
  if (options.runs < 1) throw new Error("--runs must be at least 1");
  return options;
}

/** "4m 31s". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd, stderr: "inherit" }).output();
  if (!output.success) throw new Error(`${command} ${args.join(" ")} failed`);
  return new TextDecoder().decode(output.stdout).trim();
}

/** Clones the committed HEAD into `dir/repo` and builds it there. */
async function freshClone(dir: string): Promise<{ repo: string; head: string }> {
  const head = await run("git", ["rev-parse", "HEAD"], ROOT);
  if (await run("git", ["status", "--porcelain"], ROOT) !== "") {
    console.log("note: uncommitted changes are not part of the clone; it tests the last commit");
  }
  const repo = `${dir}/repo`;
  await run("git", ["clone", "--quiet", "--no-hardlinks", ROOT, repo], dir);
  await run("git", ["checkout", "--quiet", "--detach", head], repo);
  await run(Deno.execPath(), ["task", "build"], repo);
  return { repo, head };
}

/** Running CPU burners. */
export interface Burners {
  /** Their process ids. */
  pids: number[];
  /** Kills them (again is harmless); resolves once they are gone. */
  stop(): Promise<void>;
}

/**
 * CPU burners: `yes` into /dev/null, `count` of them. Under `setpriv --pdeathsig` each dies with
 * this process even when it is killed outright.
 * @param count How many.
 */
export function startBurners(count: number): Burners {
  const children: Deno.ChildProcess[] = [];
  const pdeathsig = hasCommand("setpriv");
  for (let i = 0; i < count; i++) {
    const command = pdeathsig
      ? new Deno.Command("setpriv", { args: ["--pdeathsig", "SIGKILL", "yes"], stdout: "null" })
      : new Deno.Command("yes", { stdout: "null" });
    children.push(command.spawn());
  }
  return {
    pids: children.map((c) => c.pid),
    async stop() {
      const stopping = children.splice(0);
      for (const child of stopping) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      await Promise.all(stopping.map((c) => c.status));
    },
  };
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** The suite in its own process group, so an interrupt stops every process it started. */
let suiteGroup: number | null = null;

async function runSuite(repo: string, index: number, log: string): Promise<RunResult> {
  const file = await Deno.open(log, { write: true, create: true, truncate: true });
  const started = performance.now();
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "task", "test"],
    cwd: repo,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  suiteGroup = child.pid;
  const writer = file.writable.getWriter();
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await writer.write(chunk);
  };
  await Promise.all([copy(child.stdout), copy(child.stderr)]);
  const status = await child.status;
  suiteGroup = null;
  const ms = performance.now() - started;
  await writer.close();
  const text = await Deno.readTextFile(log);
  const failures = text.split("\n").filter((line) => / \.\.\. FAILED|^error: /.test(line));
  return { run: index, passed: status.success, ms, log, failures: failures.slice(0, 20) };
}

/**
 * Kills the suite and every process it started. SIGKILL: test modules listen for SIGTERM (for
 * graceful shutdowns of the servers they start), which keeps a test run going for minutes.
 */
function stopSuite(): void {
  if (suiteGroup === null) return;
  try {
    Deno.kill(-suiteGroup, "SIGKILL");
  } catch { /* already gone */ }
}

/**
 * Clones, builds, starts the burners and runs the suite `runs` times; prints each run's outcome.
 * @param options Runs, burners and whether to keep the clone.
 * @returns Every run's result.
 */
export async function stress(options: StressOptions): Promise<RunResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-stress-" });
  const { repo, head } = await freshClone(dir);
  console.log(
    `stress: ${options.runs} runs of \`deno task test\` on ${head.slice(0, 12)} in ${repo}, ` +
      `${options.burners} CPU burner(s) on ${navigator.hardwareConcurrency} core(s)`,
  );
  const burners = startBurners(options.burners);
  const interrupted = () => {
    stopSuite();
    void burners.stop();
    console.log("\nstress: interrupted; burners stopped");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  globalThis.addEventListener("unload", () => void burners.stop());
  const results: RunResult[] = [];
  try {
    for (let i = 1; i <= options.runs; i++) {
      const result = await runSuite(repo, i, `${dir}/run-${i}.log`);
      results.push(result);
      const verdict = result.passed ? "pass" : "FAIL";
      console.log(`run ${i}/${options.runs}: ${verdict} in ${formatDuration(result.ms)}`);
      for (const line of result.failures) console.log(`    ${line}`);
    }
  } finally {
    await burners.stop();
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    if (!options.keep) await Deno.remove(repo, { recursive: true });
  }
  const passed = results.filter((r) => r.passed).length;
  const total = results.reduce((sum, r) => sum + r.ms, 0);
  console.log(
    `stress: ${passed} of ${results.length} runs passed in ${formatDuration(total)}; ` +
      `logs in ${dir}`,
  );
  return results;
}

if (import.meta.main) {
  const results = await stress(parseStressArgs(Deno.args));
  Deno.exit(results.every((r) => r.passed) ? 0 : 1);
}
