import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { sampleLog } from "../../tests/support/store_contract/mod.ts";
import { testToken } from "../../tests/support/token_record.ts";
import { HttpError } from "../errors.ts";
import { budgetReservation, settlement } from "./budget.ts";
import { compilePrices, DEFAULT_PRICES } from "./prices.ts";

const prices = compilePrices(DEFAULT_PRICES);
const budgeted = testToken({ limits: { budgetMicros: 1_000_000 } });
const generate = { flavour: "native", method: "generateContent", model: "gemini-2.5-flash" };

Deno.test("budgetReservation() prices body bytes / 4 as prompt and the output allowance at the model's rates", () => {
  const reserve = (extra: Record<string, unknown>) =>
    budgetReservation(budgeted, { ...generate, bytes: 400, ...extra }, prices);
  // 100 prompt tokens × 0.30 = 30, plus the default 8192 output tokens × 2.50 = 20480.
  assertEquals(reserve({}), 20_510);
  // maxOutputTokens from the native body: 30 + 10 × 2.50.
  const native = JSON.stringify({ generationConfig: { maxOutputTokens: 10 } });
  assertEquals(reserve({ text: native }), 55);
  // OpenAI's max_completion_tokens or max_tokens: 30 + 100 × 2.50.
  const openai = { flavour: "openai", method: "chat/completions" };
  assertEquals(reserve({ ...openai, json: { max_tokens: 100 } }), 280);
  assertEquals(reserve({ ...openai, json: { max_completion_tokens: 100, max_tokens: 5 } }), 280);
  // An allowance past the cap reserves the cap: 30 + 65536 × 2.50.
  assertEquals(
    reserve({ text: JSON.stringify({ generationConfig: { maxOutputTokens: 1e9 } }) }),
    163_870,
  );
  // A body that is not JSON reserves the default allowance.
  assertEquals(reserve({ text: "{not json" }), 20_510);
  // Embeddings have no output: 100 × 0.15.
  assertEquals(reserve({ method: "embedContent", model: "gemini-embedding-001" }), 15);
  // A long prompt takes the long-context rates: 250000 × 2.50 + 8192 × 15.
  assertEquals(
    budgetReservation(budgeted, { ...generate, model: "gemini-2.5-pro", bytes: 1_000_000 }, prices),
    747_880,
  );
});

Deno.test("budgetReservation() reserves nothing without a budget or for calls Google does not bill", () => {
  const open = { ...budgeted, limits: { rpm: 5 } };
  assertEquals(budgetReservation(open, { ...generate, bytes: 400 }, prices), undefined);
  const list = { flavour: "native", method: "models", model: null, bytes: 0 };
  assertEquals(budgetReservation(budgeted, list, prices), undefined);
  const count = { ...generate, method: "countTokens", bytes: 400 };
  assertEquals(budgetReservation(budgeted, count, prices), undefined);
  const upload = { flavour: "upload", method: "upload", model: null, bytes: 5_000_000 };
  assertEquals(budgetReservation(budgeted, upload, prices), undefined);
});

Deno.test("budgetReservation() refuses a budgeted token what it cannot meter: unpriced models, unmetered calls", () => {
  const refuse = (request: Parameters<typeof budgetReservation>[1]) => {
    const error = assertThrows(() => budgetReservation(budgeted, request, prices));
    assert(error instanceof HttpError);
    return [error.code, error.details[0]?.reason, error.message];
  };
  const [code, reason, message] = refuse({ ...generate, model: "my-tuned-model", bytes: 10 });
  assertEquals([code, reason], [403, "TOKEN_BUDGET_UNPRICED_MODEL"]);
  assertEquals(
    message,
    'Proxy token "app" has a monthly budget, and model "my-tuned-model" has no price: an admin can price it in Settings',
  );
  assertEquals(
    refuse({ ...generate, model: "x".repeat(5000), bytes: 10 })[2]!.toString().length < 300,
    true,
  );
  assertEquals(refuse({ ...generate, method: "batchGenerateContent", bytes: 10 }).slice(0, 2), [
    403,
    "TOKEN_BUDGET_UNMETERED",
  ]);
  assertEquals(
    refuse({ flavour: "live", method: "BidiGenerateContent", model: null, bytes: 0 })[2],
    'Proxy token "app" has a monthly budget, and Live API sessions report no token usage the proxy could charge',
  );
});

Deno.test("settlement() is the cost when known, the reservation when a success has no cost, 0 on failure", () => {
  const record = sampleLog("a", 1_700_000_000_000);
  assertEquals(settlement(record, { costMicros: 17 }, 34), { micros: 17, reservedMicros: 34 });
  assertEquals(settlement(record, { costUnknown: true }, 34), { micros: 34, reservedMicros: 34 });
  const failed = { ...record, status: 503 };
  assertEquals(settlement(failed, { costMicros: 0 }, 34), { micros: 0, reservedMicros: 34 });
  assertEquals(settlement({ ...record, status: 0 }, { costUnknown: true }, 34).micros, 0);
});
