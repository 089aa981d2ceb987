import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { SerialRuns } from "./serial_runs.ts";

/** A job whose runs each wait for the test to end them, logging their arguments. */
function heldJob() {
  const started: string[] = [];
  const ends: (() => void)[] = [];
  const runs = new SerialRuns<string>((arg) => {
    started.push(arg);
    return new Promise<void>((resolve) => ends.push(resolve));
  });
  /** Lets every queued callback run. */
  const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { runs, started, ends, turn };
}

Deno.test("join() shares the run on its way", async () => {
  const { runs, started, ends, turn } = heldJob();
  const a = runs.join("a");
  const b = runs.join("b");
  assertEquals(a, b);
  assertEquals(started, ["a"]);
  ends[0]!();
  await Promise.all([a, b]);
  assertEquals(runs.busy, false);
  await turn();
  assertEquals(started, ["a"]);
});

Deno.test("fresh() waits for the run on its way, then one more run serves every call meanwhile", async () => {
  const { runs, started, ends, turn } = heldJob();
  const first = runs.join("tick");
  const ended: string[] = [];
  const flushes = ["f1", "f2", "f3"].map((arg) => runs.fresh(arg).then(() => ended.push(arg)));
  const joined = runs.join("late tick").then(() => ended.push("late tick"));
  await turn();
  assertEquals(started, ["tick"], "never two runs at once");
  ends[0]!();
  await first;
  await turn();
  assertEquals(started, ["tick", "f1"], "one more run, with the first fresh call's argument");
  assertEquals(ended, [], "the fresh calls wait for the run that began after them");
  ends[1]!();
  await Promise.all([...flushes, joined]);
  assertEquals(ended.sort(), ["f1", "f2", "f3", "late tick"]);
  assertEquals(started.length, 2);
});

Deno.test("fresh() with nothing on its way starts at once; a call between runs never starts a second", async () => {
  const { runs, started, ends, turn } = heldJob();
  const a = runs.fresh("a");
  assertEquals(started, ["a"]);
  const b = runs.fresh("b");
  ends[0]!();
  // Right as the first run ends, before the queued one starts: both kinds of call share it.
  await a;
  const c = runs.fresh("c");
  const d = runs.join("d");
  await turn();
  assertEquals(started, ["a", "b"]);
  ends[1]!();
  await Promise.all([b, c, d]);
  assertEquals(started, ["a", "b"]);
});

Deno.test("a failed run rejects its callers; the queued run still goes", async () => {
  let calls = 0;
  let fail = () => {};
  const runs = new SerialRuns<void>(() => {
    calls++;
    if (calls === 1) {
      return new Promise<void>((_, reject) => fail = () => reject(new Error("down")));
    }
    return Promise.resolve();
  });
  const first = runs.join();
  const second = runs.fresh();
  fail();
  await assertRejects(() => first, "down");
  await second;
  assertEquals(calls, 2);
  assertEquals(runs.busy, false);
});
