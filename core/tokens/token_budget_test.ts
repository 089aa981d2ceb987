/**
 * The token gate's budget path: admission reserves through the store's atomic charge, the end of
 * a request settles at once for a budgeted token, and an unbudgeted token's spending is queued.
 */
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { HttpError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store, TokenRecord } from "../store/store.ts";
import { createTokenQuota } from "./token_quota.ts";

const AT = Date.parse("2026-01-15T20:00:00Z");
const MONTH_END = Date.parse("2026-02-01T08:00:00Z");

function token(extra: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: "t1",
    name: "app",
    hash: "h",
    masked: "gp-...x",
    enabled: true,
    source: "admin",
    createdAt: 0,
    ...extra,
  };
}

function gate(store: Store) {
  return createTokenQuota({ store, now: () => AT, logger: createLogger({ sink: () => {} }) });
}

const usage = { prompt: 5, candidates: 6, thoughts: 0, cached: 0, toolUse: 0, total: 11 };

Deno.test("admit() reserves the estimate against the budget and charge() settles it at once", async () => {
  const store = createMemoryStore({ now: () => AT });
  const quota = gate(store);
  const budgeted = token({ limits: { budgetMicros: 100 } });
  await quota.admit(budgeted, { model: "m", kind: "native", reserveMicros: 60 });
  assertEquals((await store.readTokenUsage("t1", AT)).monthCostMicros, 60);
  quota.charge(budgeted, usage, { micros: 17, reservedMicros: 60 });
  // The settlement is already on its way: the next admission waits for it and sees 17, so 83 fits.
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
  // Calls Google does not bill pass a spent budget.
  await quota.admit(budgeted, { model: null, kind: "native" });
  const counted = await store.readTokenUsage("t1", AT);
  assertEquals([counted.monthRequests, counted.monthCostMicros, counted.dayTokens], [3, 100, 11]);
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
