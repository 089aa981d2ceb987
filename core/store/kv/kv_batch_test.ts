import { assertEquals } from "../../../tests/support/assert.ts";
import type { AggregateDelta } from "../mod.ts";
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
