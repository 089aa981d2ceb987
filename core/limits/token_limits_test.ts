import { assertEquals } from "../../tests/support/assert.ts";
import { activeLimits } from "./token_limits.ts";

Deno.test("activeLimits() is null for a token without limits", () => {
  assertEquals(activeLimits(undefined), null);
  assertEquals(activeLimits({}), null);
  assertEquals(activeLimits({ rpm: 3 }), { rpm: 3 });
  assertEquals(activeLimits({ budgetMicros: 5 }), { budgetMicros: 5 });
});
