/**
 * The machine a run happened on, for the report.
 * @module
 */

/** Facts about the machine and tools. */
export interface MachineInfo {
  /** `nproc`. */
  cpus: number;
  /** CPU model from /proc/cpuinfo. */
  cpuModel: string;
  /** Total memory, GiB. */
  memoryGiB: number;
  /** `uname -sr`. */
  kernel: string;
  /** Deno version running the harness (and every Deno server). */
  deno: string;
  /** Node version running Portkey, when there is one. */
  node: string | null;
  /** First line of `wrk --version`. */
  wrk: string;
  /** Commit measured, with `+N uncommitted` when the tree had changes outside bench/. */
  revision: string;
}

/**
 * Collects machine information from /proc and the tools' version commands.
 * @param node Node's version (read by the caller, which knows whether Portkey runs).
 * @returns The facts.
 */
export async function machineInfo(node: string | null): Promise<MachineInfo> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  return {
    cpus: Number(await run("nproc", [])) || navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    kernel: await run("uname", ["-sr"]),
    deno: Deno.version.deno,
    node,
    wrk: /^wrk \S+/.exec(await run("wrk", ["--version"]))?.[0] ?? "wrk",
    revision: await revision(),
  };
}

async function revision(): Promise<string> {
  const head = await run("git", ["rev-parse", "--short", "HEAD"]);
  const status = await run("git", ["status", "--porcelain"]);
  const changed =
    status.split("\n").filter((l) => l.trim() !== "" && !/\s(bench\/|BENCH\.md)/.test(l)).length;
  return changed > 0 ? `${head} + ${changed} uncommitted files` : head;
}

async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) || new TextDecoder().decode(out.stderr);
    return text.trim();
  } catch {
    return "unknown";
  }
}

/** CPU counters at one instant, in clock ticks. */
export interface CpuSnapshot {
  /** Busy ticks of the whole machine, all CPUs. */
  busy: number;
  /** All ticks of the whole machine, all CPUs. */
  total: number;
  /** Ticks used by this run: the harness, its reaped children (wrk, stream clients, stopped
   * servers) and the live servers named by pid. */
  own: number;
}

/**
 * Reads /proc/stat, /proc/self/stat and the live servers' /proc/<pid>/stat.
 * @param pids Servers of this run still running (their ticks are not in the harness's yet).
 * @returns The counters, or null off Linux.
 */
export function cpuSnapshot(pids: readonly number[] = []): CpuSnapshot | null {
  try {
    const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0]?.trim().split(/\s+/).slice(1)
      .map(Number) ?? [];
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    let own = processTicks("self");
    for (const pid of pids) own += processTicks(String(pid));
    return { busy: total - idle, total, own };
  } catch {
    return null;
  }
}

/**
 * Share of the machine's CPU that processes outside this run used between two snapshots: other
 * work on the box competes with the servers under test and lowers every figure.
 * @param before Earlier snapshot.
 * @param after Later snapshot, over the same set of live servers.
 * @returns A fraction of all CPUs, 0-1.
 */
export function foreignCpuShare(before: CpuSnapshot, after: CpuSnapshot): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  const foreign = after.busy - before.busy - (after.own - before.own);
  return Math.min(1, Math.max(0, foreign / total));
}

/**
 * Waits until processes outside the run use less than `threshold` of the CPUs, sampling for
 * 300 ms at a time, for at most `maxWaitMs`.
 * @param pids Live servers of this run.
 * @param options Threshold (fraction, default 0.1) and longest wait.
 * @returns The last sampled share (0-1), or null off Linux.
 */
export async function waitForQuiet(
  pids: readonly number[],
  options: { threshold?: number; maxWaitMs: number },
): Promise<number | null> {
  const deadline = performance.now() + options.maxWaitMs;
  let share: number | null = null;
  let warned = false;
  while (true) {
    const before = cpuSnapshot(pids);
    await new Promise((r) => setTimeout(r, 300));
    const after = cpuSnapshot(pids);
    if (!before || !after) return null;
    share = foreignCpuShare(before, after);
    if (share < (options.threshold ?? 0.1) || performance.now() >= deadline) return share;
    if (!warned) {
      console.log(`  (other processes use ${(share * 100).toFixed(0)}% of the CPUs: waiting)`);
      warned = true;
    }
  }
}

/**
 * CPU ticks a process (and its reaped children) used so far.
 * @param pid Process id, or `self`.
 * @returns Clock ticks (see {@linkcode clockTicksPerSecond}), 0 once it has exited.
 */
export function processTicks(pid: string): number {
  let stat = "";
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return 0; // exited: its ticks are in the harness's children once reaped
  }
  // Fields after the parenthesised command name; utime, stime, cutime, cstime are fields 14-17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return (fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0);
}

/**
 * The 1-minute load average.
 * @returns It, or null off Linux.
 */
export function loadAverage(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return null;
  }
}

/**
 * Clock ticks per second of /proc's CPU counters (`getconf CLK_TCK`).
 * @returns Usually 100.
 */
export async function clockTicksPerSecond(): Promise<number> {
  return Number(await run("getconf", ["CLK_TCK"])) || 100;
}
