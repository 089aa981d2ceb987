/** The stress runner's pieces: its arguments, durations, and burners that never outlive it. */
import { assert, assertEquals } from "./assert.ts";
import { formatDuration, parseStressArgs, startBurners } from "./stress.ts";
import { pollUntil } from "./wall_clock.ts";

/** Whether a process is alive (a zombie waiting to be reaped is not). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

Deno.test("parseStressArgs() reads runs, burners and keep, and refuses anything else", () => {
  assertEquals(parseStressArgs([]).runs, 5);
  assertEquals(parseStressArgs(["--runs=2", "--burners=1", "--keep"]), {
    runs: 2,
    burners: 1,
    keep: true,
  });
  for (const bad of [["--runs=0"], ["--runs=two"], ["--fast"], ["--keep=1"]]) {
    let error: unknown;
    try {
      parseStressArgs(bad);
    } catch (e) {
      error = e;
    }
    assert(error instanceof Error, `refused ${bad}`);
  }
});

Deno.test("formatDuration() shows minutes and seconds", () => {
  assertEquals(formatDuration(271_400), "4m 31s");
  assertEquals(formatDuration(59_600), "1m 00s");
});

Deno.test("startBurners() burners stop when asked", async () => {
  const burners = startBurners(2);
  assertEquals(burners.pids.length, 2);
  for (const pid of burners.pids) assert(await alive(pid), `burner ${pid} runs`);
  await burners.stop();
  for (const pid of burners.pids) assertEquals(await alive(pid), false, `burner ${pid} stopped`);
  await burners.stop();
});

Deno.test("startBurners() burners die with a runner killed outright", async () => {
  const stress = new URL("./stress.ts", import.meta.url).href;
  const runner = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const { startBurners } = await import(${JSON.stringify(stress)});
       console.log(startBurners(1).pids[0]);
       await new Promise(() => {});`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = runner.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) line += (await reader.read()).value ?? "";
  const pid = Number(line.trim());
  assert(await alive(pid), "the burner runs");
  runner.kill("SIGKILL");
  await runner.status;
  await reader.cancel();
  await pollUntil(() => alive(pid), {
    until: (running) => !running,
    what: `burner ${pid} ending with its runner`,
  });
});
