import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { countReads, zeroReads } from "../../../tests/support/read_counter.ts";
import type { AggregateDelta, AggregateRowDelta } from "../mod.ts";
import { commitInBatches, Sums } from "./kv_batch.ts";
import { createKvStore } from "./kv_store.ts";

Deno.test("commitInBatches() splits counters with long, distinct keys under KV's key-size limit", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const sums = new Sums();
    for (let i = 0; i < 1000; i++) {
      sums.add(
        ["agg", "m", 1_768_507_200_000, `k_${String(i).padStart(16, "0")}`, "x".repeat(64)],
        1,
      );
    }
    await commitInBatches(kv, sums.mutations());
    let count = 0;
    for await (const _ of kv.list({ prefix: ["agg"] })) count++;
    assertEquals(count, 1000);
  } finally {
    kv.close();
  }
});

Deno.test("insertLogs() writes a batch whose aggregate rows name 500 different keys", async () => {
  const kv = await Deno.openKv(":memory:");
  const at = Date.parse("2026-01-15T20:00:00Z");
  try {
    const store = createKvStore(kv, { now: () => at });
    const deltas: AggregateDelta[] = [];
    for (let i = 0; i < 500; i++) {
      for (const granularity of ["m", "h", "d"] as const) {
        deltas.push({
          granularity,
          bucket: at,
          keyId: `k_${String(i).padStart(16, "0")}`,
          model: "gemini-2.5-flash-preview-09-2025",
          tokenId: "t_0123456789ab",
          field: "tokens:candidates",
          value: 1,
        });
      }
    }
    await store.insertLogs([], deltas, 86_400_000);
    const rows = await store.readAggregates("m", { from: at, to: at + 60_000 });
    assertEquals(rows.filter((r) => r.keyId.startsWith("k_")).length, 500);
  } finally {
    kv.close();
  }
});

Deno.test("a second of counters over 10,000 keys is a few dozen KV writes, read back exactly", async () => {
  const raw = await Deno.openKv(":memory:");
  const at = Date.parse("2026-01-15T20:00:00Z");
  try {
    const counts = zeroReads();
    const kv = countReads(raw, counts);
    const store = createKvStore(kv, { now: () => at });
    const fields = {
      requests: 1,
      "latency:100": 1,
      "tokens:prompt": 7,
      "tokens:total": 9,
      cost: 3,
    };
    const rows: AggregateRowDelta[] = [];
    for (const granularity of ["m", "h", "d"] as const) {
      const common = { granularity, bucket: at, model: "gemini-2.5-flash" };
      for (let i = 0; i < 10_000; i++) {
        rows.push({ ...common, keyId: `k_${String(i).padStart(16, "0")}`, tokenId: "t_1", fields });
      }
      // The roll-up row, as the log writer sends it.
      const rollup = Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, v * 10_000]));
      rows.push({ ...common, keyId: "*", tokenId: "*", fields: rollup });
    }
    // Summed one entry per counter, these were 150,000 mutations.
    await store.addAggregates({ id: "b1", rows });
    assert(counts.mutations < 300, `${counts.mutations} mutations`);
    const read = await store.readAggregates("h", { from: at, to: at + 3_600_000 });
    const keys = read.filter((r) => r.keyId.startsWith("k_"));
    assertEquals(keys.length, 10_000);
    assertEquals(keys[1234]?.fields, fields);
    assertEquals(read.find((r) => r.keyId === "*")?.fields.requests, 10_000);

    // The pool's per-key counters: 40,000 mutations as sums.
    const before = counts.mutations;
    await store.addKeyUsage(
      Array.from({ length: 10_000 }, (_, i) => ({
        keyId: `k_${String(i).padStart(16, "0")}`,
        model: "gemini-2.5-flash",
        requests: 2,
        tokens: 30,
        at,
      })),
    );
    assert(counts.mutations - before < 40, `${counts.mutations - before} mutations`);
    const usage = await store.readKeyUsage(at);
    assertEquals(usage.length, 10_000);
    assertEquals(usage[10]?.minute, 2);
    assertEquals(usage[10]?.dayTokens, 30);
  } finally {
    raw.close();
  }
});

Deno.test("packed counter values past their retention are pruned like the sums they replace", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = { now: Date.parse("2026-01-15T20:00:00Z") };
  try {
    const store = createKvStore(kv, { now: () => clock.now });
    const row = (granularity: "m" | "h", keyId: string) => ({
      granularity,
      bucket: Math.floor(clock.now / 3_600_000) * 3_600_000,
      keyId,
      model: "gemini-2.5-flash",
      tokenId: "t_1",
      fields: { requests: 1 },
    });
    await store.addAggregates({ id: "old", rows: [row("m", "k_old"), row("h", "k_old")] });
    await store.addKeyUsage([{
      keyId: "k_old",
      model: "m",
      requests: 1,
      tokens: 1,
      at: clock.now,
    }]);
    const count = async (prefix: string) => {
      let n = 0;
      for await (const _ of kv.list({ prefix: [prefix] })) n++;
      return n;
    };
    assertEquals([await count("aggp"), await count("usagep")], [2, 2]);
    // Three days on: minute buckets (kept 2 days) and minute windows (10 minutes) are past.
    clock.now += 3 * 86_400_000;
    await store.addAggregates({ id: "new", rows: [row("h", "k_new")] });
    await store.addKeyUsage([{
      keyId: "k_new",
      model: "m",
      requests: 1,
      tokens: 1,
      at: clock.now,
    }]);
    const minutes = [];
    for await (const e of kv.list({ prefix: ["aggp", "m"] })) minutes.push(e.key);
    assertEquals(minutes, []);
    // The old hour bucket stays (kept 40 days), beside the new one.
    assertEquals(await count("aggp"), 2);
    const windows = [];
    for await (const e of kv.list<Uint8Array>({ prefix: ["usagep"] })) windows.push(e.key[1]);
    // The old minute window is gone; both Pacific days and the new minute remain.
    assertEquals(windows.filter((w) => String(w).startsWith("m")).length, 1);
  } finally {
    kv.close();
  }
});
