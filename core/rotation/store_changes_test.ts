import { assertEquals } from "../../tests/support/assert.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/mod.ts";
import { createStoreChanges } from "./store_changes.ts";

/** A memory store whose version reads are counted, a clock, and a tracker with two caches. */
async function setUp() {
  const clock = { now: Date.parse("2026-01-15T20:00:00Z") };
  const now = () => clock.now;
  const store = createMemoryStore({ now });
  const reads = { count: 0 };
  const counted: Pick<Store, "version" | "cooldownVersion"> = {
    version() {
      reads.count++;
      return store.version();
    },
    cooldownVersion() {
      reads.count++;
      return store.cooldownVersion();
    },
  };
  const changes = createStoreChanges(counted, { now });
  const reloaded = { data: 0, cooldowns: 0 };
  changes.on("data", () => Promise.resolve(void reloaded.data++));
  changes.on("cooldowns", () => Promise.resolve(void reloaded.cooldowns++));
  await changes.prime();
  changes.markFresh(now());
  reads.count = 0;
  return { clock, store, changes, reads, reloaded };
}

Deno.test("tick() reads nothing while no request came, however long the instance idles", async () => {
  const { clock, changes, reads } = await setUp();
  for (let i = 0; i < 240; i++) {
    clock.now += 250;
    await changes.tick();
  }
  assertEquals(reads.count, 0);
});

Deno.test("tick() probes after a request, once more than the request's own probe, then stops", async () => {
  const { clock, changes, reads } = await setUp();
  clock.now += 1000;
  await changes.ensureFresh(); // stale: probes (2 reads)
  assertEquals(reads.count, 2);
  await changes.tick(); // the request came since: probes again
  assertEquals(reads.count, 4);
  for (let i = 0; i < 10; i++) await changes.tick();
  assertEquals(reads.count, 4, "no request since: nothing");
});

Deno.test("a probe reloads only the caches whose version moved", async () => {
  const { clock, store, changes, reloaded } = await setUp();
  await store.setCooldown({ scope: "k_1", model: "*", until: clock.now + 60_000, reason: "test" });
  await changes.check();
  assertEquals(reloaded, { data: 0, cooldowns: 1 });
  await store.putSettings({ maxAttempts: 2 });
  await changes.check();
  assertEquals(reloaded, { data: 1, cooldowns: 1 });
  await changes.check();
  assertEquals(reloaded, { data: 1, cooldowns: 1 }, "nothing moved: nothing reloaded");
});

Deno.test("a change is seen by the first request a second after it, with no read before", async () => {
  const { clock, store, changes, reads, reloaded } = await setUp();
  clock.now += 60_000;
  await store.putSettings({ maxAttempts: 2 });
  assertEquals(reads.count, 0);
  await changes.ensureFresh();
  assertEquals([reads.count, reloaded.data], [2, 1]);
  clock.now += 999;
  await changes.ensureFresh();
  assertEquals(reads.count, 2, "a view younger than the bound is used as it is");
});

Deno.test("a reload that fails leaves its version unseen: the next probe runs it again", async () => {
  const clock = { now: 0 };
  const store = createMemoryStore({ now: () => clock.now });
  const errors: unknown[] = [];
  const changes = createStoreChanges(store, {
    now: () => clock.now,
    onError: (e) => errors.push(e),
  });
  let fail = true;
  let loads = 0;
  changes.on("data", () => {
    loads++;
    return fail ? Promise.reject(new Error("store down")) : Promise.resolve();
  });
  await changes.prime();
  await store.putSettings({ maxAttempts: 2 });
  await changes.check();
  assertEquals([loads, errors.length, changes.degraded], [1, 1, true]);
  fail = false;
  await changes.check();
  assertEquals([loads, changes.degraded], [2, false]);
  await changes.check();
  assertEquals(loads, 2);
});

Deno.test("tick() retries a failed probe until the store answers, then goes quiet", async () => {
  const clock = { now: 0 };
  const store = createMemoryStore({ now: () => clock.now });
  let down = true;
  let reads = 0;
  const flaky: Pick<Store, "version" | "cooldownVersion"> = {
    version: () => (reads++, down ? Promise.reject(new Error("down")) : store.version()),
    cooldownVersion: () => store.cooldownVersion(),
  };
  const changes = createStoreChanges(flaky, { now: () => clock.now, onError() {} });
  await changes.check();
  assertEquals([reads, changes.degraded], [1, true]);
  await changes.tick();
  assertEquals(reads, 2, "degraded: the timer probes again");
  down = false;
  await changes.tick();
  assertEquals([reads, changes.degraded], [3, false]);
  await changes.tick();
  assertEquals(reads, 3, "healthy and idle: no read");
});
