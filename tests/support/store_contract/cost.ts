/**
 * The store contract's cost cases: aggregate cost sums, a month's spending in the token usage
 * counters (budgets themselves are held by limit leases, see the lease cases), and the largest
 * price table saved whole. Registered by
 * {@linkcode runStoreContract} for every backend.
 * @module
 */
import {
  MAX_MODEL_ID,
  MAX_PRICED_MODELS,
  priceTableSchema,
} from "../../../core/cost/price_schema.ts";
import type { PriceTable } from "../../../core/cost/prices.ts";
import { nextPacificMonthStart } from "../../../core/utils/pacific_time.ts";
import { assert, assertEquals } from "../assert.ts";
import type { ContractTarget } from "./_fixtures.ts";

/**
 * Registers the cost cases for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a case on a fresh store and releases it.
 */
export function runCostContract(
  name: string,
  withStore: (fn: (t: ContractTarget) => Promise<void>) => Promise<void>,
): void {
  Deno.test(`${name} store: aggregates sum cost in whole µUSD, exactly, past 2^32`, () =>
    withStore(async ({ store, clock }) => {
      const day = Math.floor(clock.now / 86_400_000) * 86_400_000;
      const delta = (field: string, value: number, model = "gemini-2.5-pro") => ({
        granularity: "d" as const,
        bucket: day,
        keyId: "*",
        model,
        tokenId: "*",
        field,
        value,
      });
      await Promise.all(Array.from({ length: 3 }, () =>
        store.insertLogs([], [
          delta("cost", 4_000_000_000),
          delta("cost:unknown", 1, "my-tuned-model"),
        ], 60_000)));
      await store.insertLogs([], [delta("cost", 1), delta("requests", 1)], 60_000);
      const rows = await store.readAggregates("d", { from: day, to: day + 86_400_000 });
      const byModel = Object.fromEntries(rows.map((r) => [r.model, r.fields]));
      assertEquals(byModel, {
        "gemini-2.5-pro": { cost: 12_000_000_001, requests: 1 },
        "my-tuned-model": { "cost:unknown": 3 },
      });
    }));

  Deno.test(`${name} store: a month's spending adds up, given-back reservations included, and resets with the Pacific month`, () =>
    withStore(async ({ store, clock }) => {
      const at = clock.now;
      // 10 reservations of 100 µUSD, then each settled at 40 (60 given back), concurrently.
      await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            store.addTokenUsage([{ tokenId: "t1", requests: 1, tokens: 0, costMicros: 100, at }]),
        ),
      );
      assertEquals((await store.readTokenUsage("t1", at)).monthCostMicros, 1000);
      await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            store.addTokenUsage([{ tokenId: "t1", requests: 0, tokens: 9, costMicros: -60, at }]),
        ),
      );
      const usage = await store.readTokenUsage("t1", at);
      assertEquals([usage.monthRequests, usage.monthTokens, usage.monthCostMicros], [10, 90, 400]);
      // Past 2^32 µUSD, exactly.
      await store.addTokenUsage([{ tokenId: "t2", requests: 0, tokens: 0, costMicros: 5e9, at }]);
      await store.addTokenUsage([{ tokenId: "t2", requests: 0, tokens: 0, costMicros: 1, at }]);
      assertEquals((await store.readTokenUsage("t2", at)).monthCostMicros, 5_000_000_001);
      const nextMonth = nextPacificMonthStart(at);
      assertEquals((await store.readTokenUsage("t1", nextMonth)).monthCostMicros, 0);
      assert((await store.readTokenUsage("t1", at)).monthCostMicros === 400);
    }));

  Deno.test(`${name} store: the largest price table the schema allows is saved and read back whole`, () =>
    withStore(async ({ store }) => {
      const table: PriceTable = {};
      for (let i = 0; i < MAX_PRICED_MODELS; i++) {
        const id = `gemini-${String(i).padStart(3, "0")}-`.padEnd(MAX_MODEL_ID, "x");
        const rates = {
          input: 9999.123456,
          output: 9999.654321,
          cached: 1234.567891,
          audioInput: 4321.987654,
          audioCached: 111.111111,
        };
        table[id] = { ...rates, longContext: { above: 99_999_999, ...rates } };
      }
      assert(priceTableSchema.safeParse(table).success, "the table is within the schema's bounds");
      await store.putSettings({ prices: table, maxAttempts: 3 });
      assertEquals(await store.getSettings(), { prices: table, maxAttempts: 3 });
    }));
}
