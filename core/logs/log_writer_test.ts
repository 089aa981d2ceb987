import { assert, assertEquals } from "../../tests/support/assert.ts";
import { sampleLog } from "../../tests/support/store_contract/mod.ts";
import { createLogger } from "./logger.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/mod.ts";
import { type LogRecord, requestId } from "../store/log_record.ts";
import { createLogWriter } from "./log_writer.ts";

const quiet = createLogger({ sink: () => {} });

function record(time: number): LogRecord {
  return sampleLog(requestId(time), time, {
    usage: { prompt: 1, candidates: 2, thoughts: 0, cached: 0, toolUse: 0, total: 3 },
  });
}

Deno.test("createLogWriter() writes queued records and their aggregates in batches", async () => {
  const store = createMemoryStore();
  const writer = createLogWriter({ store, retentionMs: 60_000, batchSize: 10, logger: quiet });
  const t = Date.now();
  for (let i = 0; i < 25; i++) writer.push(record(t));
  await writer.flush();
  assertEquals([writer.depth, writer.written, writer.dropped], [0, 25, 0]);
  assertEquals((await store.listLogs({}, 100)).logs.length, 25);
  const rows = await store.readAggregates("m", { from: 0, to: t + 60_000 });
  assertEquals(rows[0]?.fields.requests, 25);
  assertEquals(rows[0]?.fields["tokens:total"], 75);
});

Deno.test("createLogWriter() drops past its bound, counts drops and stores the count", async () => {
  const store = createMemoryStore();
  const writer = createLogWriter({
    store,
    retentionMs: 60_000,
    maxQueue: 100,
    batchSize: 1000,
    logger: quiet,
  });
  for (let i = 0; i < 130; i++) writer.push(record(Date.now()));
  assertEquals([writer.depth, writer.dropped], [100, 30]);
  await writer.flush();
  assertEquals(await store.readCounter("logs_dropped"), 30);
  assertEquals((await store.listLogs({}, 1000)).logs.length, 100);
});

Deno.test("createLogWriter() keeps records queued while the store fails, then writes them", async () => {
  const store = createMemoryStore();
  let failing = true;
  const flaky: Store = {
    ...store,
    insertLogs: (...args) =>
      failing ? Promise.reject(new Error("store down")) : store.insertLogs(...args),
  };
  const writer = createLogWriter({ store: flaky, retentionMs: 60_000, logger: quiet });
  for (let i = 0; i < 5; i++) writer.push(record(Date.now()));
  await writer.flush();
  assertEquals([writer.depth, writer.failing], [5, true]);
  failing = false;
  await writer.flush();
  assertEquals([writer.depth, writer.written, writer.failing], [0, 5, false]);
});

Deno.test("subscribe() sees records as they are queued", () => {
  const writer = createLogWriter({ store: createMemoryStore(), retentionMs: 1, logger: quiet });
  const seen: string[] = [];
  const stop = writer.subscribe((r) => seen.push(r.id));
  const r = record(1);
  writer.push(r);
  stop();
  writer.push(record(2));
  assertEquals(seen, [r.id]);
});

/** A memory store that counts aggregate writes and can fail them. */
/** A writer on a clock the test moves (epoch ms, starting in 2023). */
function clockedWriter(store: Store) {
  const clock = { now: 1_700_000_000_000 };
  const writer = createLogWriter({
    store,
    retentionMs: 60_000,
    logger: quiet,
    now: () => clock.now,
  });
  return { clock, writer };
}

function countingStore() {
  const store = createMemoryStore();
  const state = { aggregateWrites: [] as string[], failAggregates: false };
  const counting: Store = {
    ...store,
    addAggregates(batch) {
      state.aggregateWrites.push(batch.id);
      if (state.failAggregates) return Promise.reject(new Error("store down"));
      return store.addAggregates(batch);
    },
  };
  return { store: counting, state };
}

Deno.test("tick() writes aggregate counters at most once a second while records keep coming", async () => {
  const { store, state } = countingStore();
  const { clock, writer } = clockedWriter(store);
  for (let step = 0; step < 20; step++) {
    for (let i = 0; i < 10; i++) writer.push(record(clock.now));
    await writer.tick();
    clock.now += 250;
  }
  // 20 ticks over 5 s, each with records: counters written at 0, 1, 2, 3 and 4 s.
  assertEquals([writer.written, state.aggregateWrites.length], [200, 5]);
  await writer.tick();
  assertEquals(state.aggregateWrites.length, 6, "an idle tick writes what is held");
  const rows = await store.readAggregates("d", { from: 0, to: clock.now + 86_400_000 });
  assertEquals(rows.find((r) => r.keyId === "*")?.fields.requests, 200);
});

Deno.test("flush() writes held aggregate counters at once", async () => {
  const { store, state } = countingStore();
  const { clock, writer } = clockedWriter(store);
  writer.push(record(clock.now));
  await writer.tick();
  writer.push(record(clock.now));
  await writer.tick();
  assertEquals(state.aggregateWrites.length, 1);
  // The second record is stored; its counter rows (minute, hour, day; per key and rolled up) wait.
  assertEquals([writer.depth, writer.countersPending > 0], [0, true]);
  await writer.flush();
  assertEquals(state.aggregateWrites.length, 2);
  assertEquals(writer.countersPending, 0);
  const rows = await store.readAggregates("m", { from: 0, to: clock.now + 60_000 });
  assertEquals(rows.find((r) => r.keyId === "*")?.fields.requests, 2);
});

Deno.test("a failed aggregate batch is retried under the same id, and new counters wait for it", async () => {
  const { store, state } = countingStore();
  const writer = createLogWriter({ store, retentionMs: 60_000, logger: quiet });
  const t = 1_700_000_000_000;
  writer.push(record(t));
  state.failAggregates = true;
  await writer.flush();
  assertEquals(writer.failing, true);
  const held = writer.countersPending;
  assert(held > 0, "a failed batch's rows are still pending");
  writer.push(record(t));
  state.failAggregates = false;
  await writer.flush();
  const [first, retry, next] = state.aggregateWrites;
  assertEquals(first, retry);
  assert(next !== undefined && next !== first);
  assertEquals(writer.failing, false);
  assertEquals(writer.countersPending, 0);
  const rows = await store.readAggregates("m", { from: 0, to: t + 60_000 });
  assertEquals(rows.find((r) => r.keyId === "*")?.fields.requests, 2);
});

Deno.test("records keep being written while a slow counter write is under way", async () => {
  const base = createMemoryStore();
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const store: Store = {
    ...base,
    async addAggregates(batch) {
      await held;
      return await base.addAggregates(batch);
    },
  };
  const { clock, writer } = clockedWriter(store);
  writer.push(record(clock.now));
  await writer.tick();
  assertEquals(writer.countersPending > 0, true, "the first counters are being written");
  for (let i = 0; i < 3; i++) writer.push(record(clock.now));
  const tick = writer.tick();
  // Only microtasks run before a zero timer: the records' write needs nothing else.
  await Promise.race([tick, new Promise((resolve) => setTimeout(resolve, 0))]);
  assertEquals([writer.depth, writer.written], [0, 4], "records did not wait for the counters");
  assertEquals((await base.listLogs({}, 10)).logs.length, 4);
  release();
  await writer.flush();
  assertEquals(writer.countersPending, 0);
  const rows = await base.readAggregates("m", { from: 0, to: clock.now + 60_000 });
  assertEquals(rows.find((r) => r.keyId === "*")?.fields.requests, 4);
});
