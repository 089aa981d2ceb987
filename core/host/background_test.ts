import { assertEquals } from "../../tests/support/assert.ts";
import type { GatewayApp } from "../app.ts";
import type { LogRecord } from "../store/log_record.ts";
import { createBackground } from "./background.ts";

/** The parts of an app the scheduler uses, with a clock and sleeps that move it. */
function fakeApp() {
  const listeners = new Set<(record: LogRecord) => void>();
  const state = {
    now: 1000,
    syncs: [] as number[],
    synced: new Set<string>(),
    pushed: [] as string[],
  };
  const app = {
    logs: {
      subscribe(listener: (record: LogRecord) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    sync() {
      state.syncs.push(state.now);
      for (const id of state.pushed) state.synced.add(id);
      return Promise.resolve();
    },
    poolSync: { settled: () => Promise.resolve() },
  } as unknown as GatewayApp; // only logs.subscribe, sync and poolSync.settled are used
  function push(id: string): void {
    state.pushed.push(id);
    for (const listener of listeners) listener({ id } as LogRecord);
  }
  const background = createBackground(app, {
    spacingMs: 250,
    now: () => state.now,
    sleep: (ms) => {
      state.now += ms;
      return Promise.resolve();
    },
  });
  return { state, push, background };
}

Deno.test("settle() resolves only after the request's record is queued and a later sync ran", async () => {
  const { state, push, background } = fakeApp();
  let done = false;
  const settled = background.settle("r1").then(() => done = true);
  await Promise.resolve();
  assertEquals([done, state.syncs.length], [false, 0]);
  push("r1");
  await settled;
  assertEquals(state.synced.has("r1"), true);
});

Deno.test("settle() remembers records that finished before anyone waited for them", async () => {
  const { state, push, background } = fakeApp();
  push("early");
  await background.settle("early");
  assertEquals(state.synced.has("early"), true);
  await background.settle(null);
  assertEquals(state.syncs.length, 2);
});

Deno.test("settle() coalesces concurrent requests into spaced syncs", async () => {
  const { state, push, background } = fakeApp();
  const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
  for (const id of ids) push(id);
  await Promise.all(ids.map((id) => background.settle(id)));
  assertEquals(state.syncs.length <= 2, true, `syncs: ${state.syncs}`);
  for (const id of ids) assertEquals(state.synced.has(id), true);
  await background.settle(null);
  const gaps = state.syncs.slice(1).map((t, i) => t - state.syncs[i]!);
  assertEquals(gaps.every((gap) => gap >= 250), true, `gaps: ${gaps}`);
});
