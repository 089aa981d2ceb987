import { assertEquals } from "../../tests/support/assert.ts";
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
