import { assertEquals } from "../../tests/support/assert.ts";
import { sampleLog } from "../../tests/support/store_contract/mod.ts";
import { createKvStore } from "../store/kv/mod.ts";
import type { KvDatabase } from "../store/kv/mod.ts";
import type { LogRecord } from "../store/mod.ts";
import { idAt } from "../store/mod.ts";
import { createLogger } from "./logger.ts";
import { createLogWriter } from "./log_writer.ts";

const quiet = createLogger({ sink: () => {} });
const T0 = 1_700_000_000_000;

/** Records naming many distinct keys, models and tokens: thousands of aggregate counters. */
function spread(n: number): LogRecord[] {
  return Array.from(
    { length: n },
    (_, i) =>
      sampleLog(`${idAt(T0 + i)}${String(i).padStart(3, "0")}zz`, T0 + i, {
        keyId: `key_${i % 97}_0123456789abcdef`,
        model: `gemini-2.5-flash-preview-${i % 53}`,
        tokenId: `token_${i % 31}_0123456789`,
        usage: { prompt: 1, candidates: 2, thoughts: 0, cached: 0, toolUse: 0, total: 3 },
      }),
  );
}

/** A handle whose commits throw once, at the `failAt`-th commit from now. */
function failingOnce(kv: KvDatabase, state: { failAt: number }): KvDatabase {
  return {
    get: (key) => kv.get(key),
    getMany: (keys) => kv.getMany(keys),
    set: (key, value, options) => kv.set(key, value, options),
    list: (selector, options) => kv.list(selector, options),
    atomic() {
      const op = kv.atomic();
      const commit = op.commit.bind(op);
      op.commit = () => {
        if (--state.failAt === 0) return Promise.reject(new Error("connection reset"));
        return commit();
      };
      return op;
    },
    close: () => kv.close(),
  };
}

async function rollupSum(store: ReturnType<typeof createKvStore>, field: string) {
  const rows = await store.readAggregates("d", { from: 0, to: T0 + 86_400_000 });
  return rows.filter((r) => r.keyId === "*").reduce((n, r) => n + (r.fields[field] ?? 0), 0);
}

Deno.test("createLogWriter() on KV stores every record and exact sums when a batch touches thousands of counters", async () => {
  const kv = await Deno.openKv(":memory:");
  const store = createKvStore(kv, { now: () => T0 });
  try {
    const writer = createLogWriter({ store, retentionMs: 86_400_000, logger: quiet });
    for (const record of spread(400)) writer.push(record);
    await writer.flush();
    assertEquals([writer.depth, writer.written, writer.failing], [0, 400, false]);
    assertEquals((await store.listLogs({}, 1000)).logs.length, 400);
    assertEquals(await rollupSum(store, "requests"), 400);
    assertEquals(await rollupSum(store, "tokens:total"), 1200);
  } finally {
    await store.close();
  }
});

Deno.test("createLogWriter() on KV counts nothing twice when a write fails half way and is retried", async () => {
  for (const failAt of [1, 2, 3, 4, 6]) {
    const kv = await Deno.openKv(":memory:");
    const state = { failAt };
    const store = createKvStore(failingOnce(kv, state), { now: () => T0 });
    try {
      const writer = createLogWriter({ store, retentionMs: 86_400_000, logger: quiet });
      for (const record of spread(400)) writer.push(record);
      for (let i = 0; i < 3 && (i === 0 || writer.depth > 0 || writer.failing); i++) {
        await writer.flush();
      }
      assertEquals(
        [writer.depth, writer.written, writer.failing],
        [0, 400, false],
        `fail at ${failAt}`,
      );
      assertEquals((await store.listLogs({}, 1000)).logs.length, 400, `fail at ${failAt}`);
      assertEquals(await rollupSum(store, "requests"), 400, `fail at ${failAt}`);
      assertEquals(await rollupSum(store, "tokens:total"), 1200, `fail at ${failAt}`);
    } finally {
      await store.close();
    }
  }
});

Deno.test("two writers on one KV file add up exactly, their pages listed together", async () => {
  const dir = await Deno.makeTempDir();
  const stores = [
    createKvStore(await Deno.openKv(`${dir}/shared.kv`), { now: () => T0 }),
    createKvStore(await Deno.openKv(`${dir}/shared.kv`), { now: () => T0 }),
  ];
  try {
    const writers = stores.map((store) =>
      createLogWriter({ store, retentionMs: 86_400_000, logger: quiet, batchSize: 50 })
    );
    const records = spread(400);
    records.forEach((record, i) => writers[i % 2]!.push(record));
    await Promise.all(writers.map((w) => w.tick()));
    await Promise.all(writers.map((w) => w.flush()));
    const listed = (await stores[0]!.listLogs({}, 1000)).logs.map((r) => r.id);
    assertEquals(listed, records.map((r) => r.id).reverse());
    assertEquals(await rollupSum(stores[1]!, "requests"), 400);
    assertEquals(await rollupSum(stores[1]!, "tokens:total"), 1200);
  } finally {
    for (const store of stores) await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
