import { assert, assertEquals } from "../../tests/support/assert.ts";
import { createKeyPool, type KeyPool } from "../rotation/key_pool.ts";
import { createLogger } from "../logs/logger.ts";
import type { ActiveKey, Registry } from "../rotation/registry.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { KeyRecord, Store } from "../store/mod.ts";
import { createKeyCaps, type KeyCaps, keyLimitFor, type KeyLimits } from "./key_caps.ts";
import { createLeaseLedger, type LeaseLedger } from "./lease_ledger.ts";
import { createModelBook } from "../rotation/model_book.ts";

function registryOf(records: Partial<KeyRecord>[]): Registry {
  const keys: ActiveKey[] = records.map((r, i) => ({
    id: r.id ?? `k${i}`,
    value: `AIzaFAKE-TEST-${i}`,
    record: {
      id: r.id ?? `k${i}`,
      sealed: "",
      masked: "",
      enabled: true,
      source: "env",
      createdAt: i,
      ...r,
    },
  }));
  return { keys, enabledKeys: keys } as unknown as Registry;
}

/** A pool with caps held by a ledger on `store` (one instance). */
function capped(
  records: Partial<KeyRecord>[],
  options: {
    store: Store;
    clock: { now: number };
    defaults?: KeyLimits;
    foldModel?: (model: string) => string;
  },
): { pool: KeyPool; caps: KeyCaps; ledger: LeaseLedger } {
  const logger = createLogger({ sink: () => {} });
  const now = () => options.clock.now;
  const ledger = createLeaseLedger({ store: options.store, now, logger });
  let pool: KeyPool | null = null;
  const caps = createKeyCaps({
    ledger,
    defaults: () => options.defaults,
    scopeOf: (key) => pool!.scopeOf(key),
    logger,
    ...(options.foldModel ? { foldModel: options.foldModel } : {}),
  });
  pool = createKeyPool(registryOf(records), {
    now,
    strategy: () => "round_robin",
    limits: () => options.defaults ?? {},
    caps,
  });
  return { pool, caps, ledger };
}

/** Picks a key and takes a request of its caps, passing over capped keys, as the proxy does. */
async function use(pool: KeyPool, caps: KeyCaps, model: string): Promise<string | null> {
  let skip = new Set<string>();
  for (;;) {
    const key = pool.pick(model, skip).key;
    if (!key || await caps.take(key, model)) return key?.id ?? null;
    skip = new Set([...skip, key.id]);
  }
}

Deno.test("keyLimitFor() takes the key's own entry, its star, then the defaults'", () => {
  const defaults = { m: { rpm: 1 }, "*": { rpm: 2 } };
  assertEquals(keyLimitFor({ limits: { m: { rpd: 3 } } }, "m", defaults), { rpd: 3 });
  assertEquals(keyLimitFor({ limits: { "*": { rpd: 4 } } }, "m", defaults), { rpd: 4 });
  assertEquals(keyLimitFor({}, "m", defaults), { rpm: 1 });
  assertEquals(keyLimitFor({}, "other", defaults), { rpm: 2 });
  assertEquals(keyLimitFor({}, null, undefined), undefined);
});

Deno.test("per-minute caps reset with the next minute; per-day caps with the Pacific day", async () => {
  const clock = { now: Date.parse("2026-01-15T20:00:10Z") };
  const store = createMemoryStore({ now: () => clock.now });
  const { pool, caps } = capped([{ limits: { m: { rpm: 2, rpd: 3 } } }], { store, clock });
  assertEquals(
    [await use(pool, caps, "m"), await use(pool, caps, "m"), await use(pool, caps, "m")],
    [
      "k0",
      "k0",
      null,
    ],
  );
  assertEquals(pool.pick("m").earliest, Date.parse("2026-01-15T20:01:00Z"));
  clock.now += 60_000;
  assertEquals([await use(pool, caps, "m"), await use(pool, caps, "m")], ["k0", null]);
  assertEquals(pool.pick("m").earliest, Date.parse("2026-01-16T08:00:00Z"), "the Pacific day ends");
  clock.now = Date.parse("2026-01-16T08:00:05Z");
  assertEquals(await use(pool, caps, "m"), "k0");
});

Deno.test("caps hold across instances: two pools on one store share each key's count", async () => {
  const clock = { now: Date.parse("2026-01-15T20:00:10Z") };
  const store = createMemoryStore({ now: () => clock.now });
  const defaults = { m: { rpm: 3 } };
  const a = capped([{}, {}], { store, clock, defaults });
  const b = capped([{}, {}], { store, clock, defaults });
  const picks = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => i % 2 ? use(a.pool, a.caps, "m") : use(b.pool, b.caps, "m"),
    ),
  );
  assertEquals(picks.filter((id) => id === "k0").length, 3);
  assertEquals(picks.filter((id) => id === "k1").length, 3);
  assertEquals(picks.filter((id) => id === null).length, 14);
  assert(await use(a.pool, a.caps, "other") !== null, "other models are not capped");
});

Deno.test("keys of one project share the project's caps", async () => {
  const clock = { now: Date.parse("2026-01-15T20:00:10Z") };
  const store = createMemoryStore({ now: () => clock.now });
  const { pool, caps } = capped(
    [{ project: "p1" }, { project: "p1" }, { project: "p2" }],
    { store, clock, defaults: { m: { rpd: 2 } } },
  );
  const used = [];
  for (let i = 0; i < 6; i++) used.push(await use(pool, caps, "m"));
  assertEquals(used.filter((id) => id === "k0" || id === "k1").length, 2);
  assertEquals(used.filter((id) => id === "k2").length, 2);
  assertEquals(used.slice(4), [null, null]);
});

Deno.test("an unreachable store does not stop a capped key: the request is counted as owed", async () => {
  const clock = { now: Date.parse("2026-01-15T20:00:10Z") };
  const store = createMemoryStore({ now: () => clock.now });
  const takeLeases = store.takeLeases;
  store.takeLeases = () => Promise.reject(new Error("down"));
  const { pool, caps, ledger } = capped([{}], { store, clock, defaults: { m: { rpm: 1 } } });
  assertEquals(await use(pool, caps, "m"), "k0");
  await ledger.sync();
  store.takeLeases = takeLeases;
  await ledger.sync();
  assertEquals(await use(pool, caps, "m"), null, "the owed request counted once the store is back");
});

Deno.test("invented model names share one cap, so they cannot dodge it by changing names", async () => {
  const clock = { now: Date.parse("2026-01-15T20:00:10Z") };
  const book = createModelBook();
  const { pool, caps } = capped([{}, {}], {
    store: createMemoryStore(),
    clock,
    defaults: { "*": { rpm: 1 } },
    foldModel: book.fold,
  });
  const names = ["gemini-x1", "gemini-x2", "gemini-x3", "gemini-x4"];
  const got = [];
  for (const name of names) got.push(await use(pool, caps, name));
  assertEquals(got, ["k0", "k1", null, null]);
  book.confirm("gemini-2.5-flash");
  assertEquals(
    await use(pool, caps, "gemini-2.5-flash"),
    "k0",
    "a confirmed model has its own cap",
  );
});
