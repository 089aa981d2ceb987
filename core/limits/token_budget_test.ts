/**
 * The token gate's budget path: admission reserves a request's cost estimate from the budget's
 * month through the lease ledger, the end of a request settles it to the real cost, and the usage
 * counters show the month's spending.
 */
import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { testToken as token } from "../../tests/support/token_record.ts";
import { HttpError } from "../errors.ts";
import { createLeaseLedger } from "./lease_ledger.ts";
import { createLogger } from "../logs/logger.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/mod.ts";
import { createTokenQuota } from "./token_quota.ts";

const AT = Date.parse("2026-01-15T20:00:00Z");
const MONTH_END = Date.parse("2026-02-01T08:00:00Z");

function gate(store: Store) {
  const logger = createLogger({ sink: () => {} });
  const now = () => AT;
  return createTokenQuota({
    store,
    ledger: createLeaseLedger({ store, now, logger }),
    now,
    logger,
  });
}

const usage = { prompt: 5, candidates: 6, thoughts: 0, cached: 0, toolUse: 0, total: 11 };

Deno.test("admit() reserves the estimate against the budget and settle() gives back what it did not cost", async () => {
  const store = createMemoryStore({ now: () => AT });
  const quota = gate(store);
  const budgeted = token({ limits: { budgetMicros: 100 } });
  const first = await quota.admit(budgeted, { model: "m", kind: "native", reserveMicros: 60 });
  await quota.sync();
  assertEquals((await store.readTokenUsage("t1", AT)).monthCostMicros, 60, "shown reserved");
  first.settle(usage, { costMicros: 17 });
  quota.charge(budgeted, usage, { micros: 17, reservedMicros: 60 });
  // 43 came back: 17 spent, so 83 fits and one more µUSD does not.
  await quota.admit(budgeted, { model: "m", kind: "native", reserveMicros: 83 });
  const refused = await assertRejects(() =>
    quota.admit(budgeted, { model: "m", kind: "native", reserveMicros: 1 })
  );
  assert(refused instanceof HttpError);
  assertEquals([refused.code, refused.details[0]?.reason], [429, "TOKEN_BUDGET_EXCEEDED"]);
  assertEquals(refused.headers["retry-after"], String((MONTH_END - AT) / 1000));
  assertEquals(
    refused.message,
    `Proxy token "app" has spent its budget of $0.0001 a month, or this request's cost estimate does not fit in what is left: retry in ${
      (MONTH_END - AT) / 1000
    }s`,
  );
  // Even a reservation of nothing is refused once the budget is spent...
  await assertRejects(() =>
    quota.admit(budgeted, { model: "m", kind: "native", reserveMicros: 0 })
  );
  // ...and calls Google does not bill pass.
  await quota.admit(budgeted, { model: null, kind: "native" });
  await quota.sync();
  const counted = await store.readTokenUsage("t1", AT);
  assertEquals([counted.monthRequests, counted.monthCostMicros, counted.dayTokens], [3, 100, 11]);
});

Deno.test("two gates on one store: of 50 concurrent reservations of 100 µUSD on 1,000, exactly 10 pass", async () => {
  const store = createMemoryStore({ now: () => AT });
  const [a, b] = [gate(store), gate(store)];
  const budgeted = token({ limits: { budgetMicros: 1000 } });
  const results = await Promise.allSettled(
    Array.from(
      { length: 50 },
      (_, i) => (i % 2 ? a : b).admit(budgeted, { model: "m", kind: "native", reserveMicros: 100 }),
    ),
  );
  assertEquals(results.filter((r) => r.status === "fulfilled").length, 10);
  for (const r of results) {
    if (r.status === "rejected") assertEquals((r.reason as HttpError).code, 429);
  }
});

Deno.test("charge() queues an unbudgeted token's spending for the next sync", async () => {
  const store = createMemoryStore({ now: () => AT });
  const quota = gate(store);
  const open = token();
  await quota.admit(open, { model: "m", kind: "native" });
  quota.charge(open, usage, { micros: 17, reservedMicros: 0 });
  quota.charge(open, null, { micros: 0, reservedMicros: 0 });
  assertEquals((await store.readTokenUsage("t1", AT)).monthCostMicros, 0, "nothing written yet");
  await quota.sync();
  const counted = await store.readTokenUsage("t1", AT);
  assertEquals([counted.monthRequests, counted.monthTokens, counted.monthCostMicros], [1, 11, 17]);
});
