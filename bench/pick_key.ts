/**
 * Cost of picking a key with 10 and with 10,000 keys in the pool, per strategy, side by side in
 * one run. Run: `deno run -A bench/pick_key.ts` (also part of `deno task bench`).
 * @module
 */
import { createKeyPool, type Strategy } from "../core/rotation/key_pool.ts";
import type { ActiveKey, Registry } from "../core/rotation/registry.ts";

/** One measured row. */
export interface PickRow {
  strategy: Strategy;
  keys: number;
  /** Choosing a key alone, with a tenth of the pool resting for the model. */
  nsPerPick: number;
  /** Choosing a key and counting the request on it (what a proxied request does). */
  nsPerPickAndCount: number;
}

function registryOf(n: number): Registry {
  const keys: ActiveKey[] = Array.from({ length: n }, (_, i) => ({
    id: `k${i}`,
    value: `AIzaFAKE-BENCH-${String(i).padStart(20, "0")}`,
    record: {
      id: `k${i}`,
      sealed: "",
      masked: "",
      enabled: true,
      source: "env",
      createdAt: i,
      weight: 1 + (i % 3),
    },
  }));
  return { keys, enabledKeys: keys } as unknown as Registry;
}

function measure(strategy: Strategy, n: number, picks: number, count: boolean): number {
  const pool = createKeyPool(registryOf(n), { now: Date.now, strategy: () => strategy });
  // A tenth of the pool cooling for the model, as in a busy free-tier pool.
  const registry = registryOf(n);
  for (let i = 0; i < n; i += 10) {
    pool.applyCooldown({
      scope: `k:${registry.keys[i]!.id}`,
      model: "m",
      until: Date.now() + 3_600_000,
      reason: "bench",
    });
  }
  for (let i = 0; i < 10_000; i++) pool.pick("m");
  const started = performance.now();
  for (let i = 0; i < picks; i++) {
    const { key } = pool.pick("m");
    if (count && key) pool.countRequest(key, "m");
  }
  return ((performance.now() - started) * 1e6) / picks;
}

/**
 * Measures every strategy at 10 and 10,000 keys (best of five runs each).
 * @param picks Picks per run.
 */
export function benchPickKey(picks = 300_000): PickRow[] {
  const rows: PickRow[] = [];
  for (const strategy of ["round_robin", "least_used", "weighted"] as const) {
    for (const keys of [10, 10_000]) {
      const best = (count: boolean) =>
        Math.round(Math.min(...[0, 1, 2, 3, 4].map(() => measure(strategy, keys, picks, count))));
      rows.push({ strategy, keys, nsPerPick: best(false), nsPerPickAndCount: best(true) });
    }
  }
  return rows;
}

if (import.meta.main) {
  const rows = benchPickKey();
  console.log(
    "| strategy | pick, 10 keys | pick, 10,000 keys | ratio | pick + count, 10 | pick + count, 10,000 |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const strategy of ["round_robin", "least_used", "weighted"]) {
    const small = rows.find((r) => r.strategy === strategy && r.keys === 10)!;
    const large = rows.find((r) => r.strategy === strategy && r.keys === 10_000)!;
    const ratio = (large.nsPerPick / small.nsPerPick).toFixed(2);
    console.log(
      `| ${strategy} | ${small.nsPerPick} ns | ${large.nsPerPick} ns | ${ratio} | ${small.nsPerPickAndCount} ns | ${large.nsPerPickAndCount} ns |`,
    );
  }
}
