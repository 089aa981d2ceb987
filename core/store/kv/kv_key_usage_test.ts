import { assertEquals } from "../../../tests/support/assert.ts";
import { countReads, roundTrips, zeroReads } from "../../../tests/support/read_counter.ts";
import { createKvStore } from "./kv_store.ts";

Deno.test("putKeyStates() writes the last-used times of 10,000 keys without reading any", async () => {
  const counts = zeroReads();
  const kv = countReads(await Deno.openKv(":memory:"), counts);
  try {
    const store = createKvStore(kv);
    const states = Array.from({ length: 10_000 }, (_, i) => ({ keyId: `k_${i}`, lastUsedAt: i }));
    await store.putKeyStates(states);
    assertEquals(roundTrips(counts), 0);
    await store.putKeyStates([{ keyId: "k_7", lastUsedAt: 3 }]);
    const listed = await store.listKeyStates();
    assertEquals(listed.length, 10_000);
    assertEquals(listed.find((s) => s.keyId === "k_7")?.lastUsedAt, 7, "never moves back");
    assertEquals(listed.find((s) => s.keyId === "k_9999")?.lastUsedAt, 9999);
  } finally {
    kv.close();
  }
});
