import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { testToken as token } from "../../tests/support/token_record.ts";
import { compilePrices, DEFAULT_PRICES } from "../cost/mod.ts";
import { HttpError } from "../errors.ts";
import { createLeaseLedger, createTokenQuota } from "../limits/mod.ts";
import { createLogger } from "../logs/mod.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { LogRecord } from "../store/mod.ts";
import { createTokenAccounting } from "./token_accounting.ts";

const AT = Date.parse("2026-01-15T20:00:00Z");

function accounting() {
  const store = createMemoryStore({ now: () => AT });
  const logger = createLogger({ sink: () => {} });
  const now = () => AT;
  const tokens = createTokenQuota({
    store,
    ledger: createLeaseLedger({ store, now, logger }),
    now,
    logger,
  });
  const prices = compilePrices(DEFAULT_PRICES);
  return createTokenAccounting(tokens, () => prices);
}

function record(model: string): LogRecord {
  return { id: "r1", flavour: "native", method: "generateContent", model } as LogRecord;
}

const body = { bytes: 100, json: undefined, text: null };

Deno.test("accounting admit() lets a token without limits in at once, with no promise", () => {
  const answer = accounting().admit({
    token: token(),
    record: record("gemini-2.5-flash"),
    kind: "native",
    body,
  });
  assertEquals(answer, undefined);
});

Deno.test("accounting admit() refuses a budget it cannot meter by a rejected promise, not a throw", async () => {
  const budgeted = token({ limits: { budgetMicros: 1_000_000 } });
  // A model with no price, its name hostile: the refusal names it clipped, never throws at once.
  const model = `gemini-"invented"-${"x".repeat(5_000)}`;
  let answer: unknown;
  try {
    answer = accounting().admit({ token: budgeted, record: record(model), kind: "native", body });
  } catch (error) {
    throw new Error(`threw synchronously: ${error}`);
  }
  assert(answer instanceof Promise);
  const error = await assertRejects(() => answer, "has no price");
  assert(error instanceof HttpError && error.code === 403, String(error));
  assert(error.message.length < 1_000, "the model name is clipped in the message");
});
