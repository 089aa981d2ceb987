/**
 * The store contract's cost cases: aggregate cost sums, monthly budgets reserved and settled
 * exactly under concurrency, and the largest price table saved whole. Registered by
 * {@linkcode runStoreContract} for every backend.
 * @module
 */
import { MAX_MODEL_ID, MAX_PRICED_MODELS, priceTableSchema } from "../core/cost/price_schema.ts";
import type { PriceTable } from "../core/cost/prices.ts";
import { nextPacificMonthStart } from "../core/pacific_time.ts";
import { assert, assertEquals } from "./assert.ts";
import type { ContractTarget } from "./store_contract.ts";

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
      const rows = await store.readAggregates("d", day, day + 86_400_000);
      const byModel = Object.fromEntries(rows.map((r) => [r.model, r.fields]));
      assertEquals(byModel, {
        "gemini-2.5-pro": { cost: 12_000_000_001, requests: 1 },
        "my-tuned-model": { "cost:unknown": 3 },
      });
    }));

  Deno.test(`${name} store: 50 concurrent reservations of 100 µUSD on a 1,000 µUSD budget admit exactly 10`, () =>
    withStore(async ({ store, clock }) => {
      const at = clock.now;
      const limits = { budgetMicros: 1000 };
      const results = await Promise.all(
        Array.from(
          { length: 50 },
          () => store.chargeTokenRequest("t1", limits, at, { reserveMicros: 100 }),
        ),
      );
      assertEquals(results.filter((r) => r.ok).length, 10);
      for (const r of results.filter((r) => !r.ok)) {
        assertEquals(r, { ok: false, limit: "budget", retryAt: nextPacificMonthStart(at) });
      }
      const usage = await store.readTokenUsage("t1", at);
      assertEquals([usage.monthRequests, usage.monthCostMicros], [10, 1000]);
      // Settled concurrently at 40 each: 600 µUSD comes back, in parallel with new charges.
      await Promise.all([
        ...Array.from(
          { length: 10 },
          () =>
            store.addTokenUsage([{ tokenId: "t1", requests: 0, tokens: 9, costMicros: -60, at }]),
        ),
        ...Array.from(
          { length: 10 },
          () => store.chargeTokenRequest("t2", limits, at, { reserveMicros: 100 }),
        ),
      ]);
      assertEquals((await store.readTokenUsage("t1", at)).monthCostMicros, 400);
      assertEquals((await store.readTokenUsage("t2", at)).monthCostMicros, 1000);
    }));

  Deno.test(`${name} store: a budget follows settled costs and resets with the Pacific month`, () =>
    withStore(async ({ store, clock }) => {
      const at = clock.now;
      const limits = { budgetMicros: 1000, rpm: 100 };
      const charge = (reserveMicros?: number, when = at) =>
        store.chargeTokenRequest(
          "t",
          limits,
          when,
          reserveMicros === undefined ? {} : { reserveMicros },
        );
      assert((await charge(300)).ok);
      // It cost 100: 200 comes back.
      await store.addTokenUsage([{ tokenId: "t", requests: 0, tokens: 0, costMicros: -200, at }]);
      assertEquals((await store.readTokenUsage("t", at)).monthCostMicros, 100);
      assertEquals((await charge(901)).ok, false, "100 + 901 does not fit in 1000");
      assert((await charge(900)).ok, "100 + 900 fits exactly");
      const spent = await charge(0);
      assertEquals(spent.ok ? null : spent.limit, "budget", "nothing billed passes a spent budget");
      assert((await charge()).ok, "a call Google does not bill passes");
      // It cost 50 more than reserved: the month is over budget by 50.
      await store.addTokenUsage([{ tokenId: "t", requests: 0, tokens: 0, costMicros: 50, at }]);
      const usage = await store.readTokenUsage("t", at);
      assertEquals([usage.monthRequests, usage.monthCostMicros], [3, 1050]);
      const nextMonth = nextPacificMonthStart(at);
      assert((await charge(1000, nextMonth)).ok, "a new month starts from nothing");
      assertEquals((await store.readTokenUsage("t", nextMonth)).monthCostMicros, 1000);
      assertEquals((await store.readTokenUsage("t", at)).monthCostMicros, 1050);
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
