import { assert, assertEquals } from "../../tests/support/assert.ts";
import { createKeyPool, type KeyPool, type KeyPoolOptions, type Strategy } from "./key_pool.ts";
import { createModelBook, OTHER_MODEL } from "./model_book.ts";
import type { ActiveKey, Registry } from "./registry.ts";
import type { KeyRecord } from "../store/mod.ts";

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
  return { keys, enabledKeys: keys.filter((k) => k.record.enabled) } as unknown as Registry;
}

function pool(
  records: Partial<KeyRecord>[],
  strategy: Strategy,
  options: { clock?: { now: number }; random?: () => number; extra?: Partial<KeyPoolOptions> } = {},
): KeyPool {
  const { clock = { now: 0 }, random = Math.random, extra = {} } = options;
  return createKeyPool(registryOf(records), {
    now: () => clock.now,
    strategy: () => strategy,
    random,
    ...extra,
  });
}

Deno.test("pick() walks keys in order under round_robin", () => {
  const p = pool([{}, {}, {}], "round_robin");
  assertEquals([1, 2, 3, 4].map(() => p.pick("m").key?.id), ["k0", "k1", "k2", "k0"]);
});

Deno.test("pick() skips keys cooling for the model but not for other models", () => {
  const clock = { now: 1000 };
  const p = pool([{}, {}], "round_robin", { clock });
  p.applyCooldown({ scope: "k:k0", model: "m", until: 5000, reason: "rpm" });
  assertEquals([1, 2, 3].map(() => p.pick("m").key?.id), ["k1", "k1", "k1"]);
  assert(["k0", "k1"].includes(p.pick("other").key!.id));
  clock.now = 5000;
  assertEquals([1, 2].map(() => p.pick("m").key?.id).sort(), ["k0", "k1"]);
});

Deno.test("pick() applies a project's cooldown to every key of the project", () => {
  const p = pool([{ project: "a" }, { project: "a" }, { project: "b" }], "round_robin");
  p.applyCooldown({ scope: "p:a", model: "m", until: 10_000, reason: "rpm" });
  assertEquals([1, 2, 3].map(() => p.pick("m").key?.id), ["k2", "k2", "k2"]);
});

Deno.test("pick() reports the earliest moment a key frees up when none is usable", () => {
  const p = pool([{}, {}], "round_robin");
  p.applyCooldown({ scope: "k:k0", model: "*", until: 9000, reason: "x" });
  p.applyCooldown({ scope: "k:k1", model: "m", until: 7000, reason: "x" });
  assertEquals(p.pick("m"), { key: null, earliest: 9000 - 2000 });
});

Deno.test("pick() never returns an excluded or disabled key", () => {
  const p = pool([{}, { enabled: false }, {}], "round_robin");
  assertEquals(p.pick("m", new Set(["k0"])).key?.id, "k2");
  assertEquals(p.pick("m", new Set(["k0", "k2"])), { key: null, earliest: null });
});

Deno.test("weighted picks follow weights", () => {
  let seed = 1;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const p = pool([{ weight: 1 }, { weight: 3 }], "weighted", { clock: { now: 0 }, random });
  const counts = { k0: 0, k1: 0 } as Record<string, number>;
  for (let i = 0; i < 4000; i++) counts[p.pick("m").key!.id]!++;
  assert(counts.k1! / counts.k0! > 2.6 && counts.k1! / counts.k0! < 3.4, JSON.stringify(counts));
});

Deno.test("least_used prefers the key with fewer requests this minute", () => {
  const p = pool([{}, {}, {}], "least_used");
  const heavy = p.pick("m").key!;
  for (let i = 0; i < 50; i++) p.countRequest(heavy, "m");
  for (let i = 0; i < 30; i++) assert(p.pick("m").key!.id !== heavy.id, "the busy key loses");
});

Deno.test("20,000 invented model names leave per-model state bounded by the key count", () => {
  const keys = Array.from({ length: 50 }, () => ({}));
  const models = createModelBook();
  models.confirm("gemini-2.5-flash");
  for (const strategy of ["round_robin", "least_used", "weighted"] as const) {
    const p = pool(keys, strategy, {
      clock: { now: 0 },
      random: Math.random,
      extra: {
        models,
        limits: () => ({ "*": { rpm: 1_000_000 } }),
      },
    });
    for (let i = 0; i < 20_000; i++) {
      const model = i % 10 === 0 ? "gemini-2.5-flash" : `gemini-invented-${i}`;
      const key = p.pick(model).key!;
      p.countRequest(key, model);
    }
    const size = p.stateSize();
    // One counter slot for the confirmed model, one shared by every invented name.
    assert(size.counters <= 2 * keys.length, `${strategy}: ${JSON.stringify(size)}`);
    assert(size.ready <= 1, `${strategy}: ${JSON.stringify(size)}`);
    assertEquals(p.modelSlot("gemini-invented-7"), OTHER_MODEL);
    assertEquals(p.modelSlot("gemini-2.5-flash"), "gemini-2.5-flash");
    assertEquals(p.modelSlot(null), "*");
  }
});

Deno.test("ready lists stay under their cap however many models have cooldowns", () => {
  const p = pool([{}, {}], "round_robin", { clock: { now: 0 } });
  for (let i = 0; i < 2000; i++) {
    p.applyCooldown({ scope: "k:k0", model: `gemini-cool-${i}`, until: 1000, reason: "rpm" });
    assertEquals(p.pick(`gemini-cool-${i}`).key?.id, "k1");
  }
  assert(p.stateSize().ready <= 256, JSON.stringify(p.stateSize()));
});
