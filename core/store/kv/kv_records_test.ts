import { assertEquals } from "../../../tests/support/assert.ts";
import type { KeyRecord } from "../mod.ts";
import type { KvDatabase } from "./kv_database.ts";
import { createKvStore } from "./kv_store.ts";

const record = (id: string, masked = "AIza...TEST"): KeyRecord => ({
  id,
  sealed: `v1.${id}`,
  masked,
  enabled: true,
  source: "env",
  createdAt: 1,
});

Deno.test("addKeys() keeps a key another process stored while it listed, and adds the rest", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const other = createKvStore(kv);
    let raced = false;
    // Another process stores k_0007 right after this one has listed the stored keys.
    const racing: KvDatabase = Object.assign(Object.create(kv), {
      list: (...args: Parameters<Deno.Kv["list"]>) => {
        const listing = kv.list(...args);
        return (async function* () {
          yield* listing;
          if (!raced) {
            raced = true;
            await other.addKey(record("k_0007", "theirs"));
          }
        })();
      },
      atomic: () => kv.atomic(),
      get: (...args: Parameters<Deno.Kv["get"]>) => kv.get(...args),
    });
    const store = createKvStore(racing);
    const records = Array.from(
      { length: 1200 },
      (_, i) => record(`k_${String(i).padStart(4, "0")}`),
    );
    const added = await store.addKeys(records);
    assertEquals(raced, true);
    assertEquals(added.length, 1199);
    assertEquals(added.includes("k_0007"), false);
    const stored = await other.listKeys();
    assertEquals(stored.length, 1200);
    assertEquals(stored.find((k) => k.id === "k_0007")?.masked, "theirs");
  } finally {
    kv.close();
  }
});
