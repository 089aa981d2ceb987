import { assertEquals } from "../../tests/assert.ts";
import { activeLimits, tokenWindows, windowExpired } from "./token_limits.ts";

// 2026-01-15 12:00 PST.
const AT = Date.parse("2026-01-15T20:00:30Z");

Deno.test("tokenWindows() names the clock minute, Pacific day and Pacific month", () => {
  assertEquals(tokenWindows(AT), {
    minute: `m${Math.floor(AT / 60_000)}`,
    day: "d2026-01-15",
    month: "M2026-01",
  });
  // 2026-02-01 03:00 UTC is still January 31 in California.
  assertEquals(tokenWindows(Date.parse("2026-02-01T03:00:00Z")).month, "M2026-01");
});

Deno.test("activeLimits() is null for a token without limits", () => {
  assertEquals(activeLimits(undefined), null);
  assertEquals(activeLimits({}), null);
  assertEquals(activeLimits({ rpm: 3 }), { rpm: 3 });
  assertEquals(activeLimits({ budgetMicros: 5 }), { budgetMicros: 5 });
});

Deno.test("windowExpired() keeps ten minutes, forty days and about a year", () => {
  const w = tokenWindows(AT);
  assertEquals([windowExpired(w.minute, AT), windowExpired(w.day, AT)], [false, false]);
  assertEquals(windowExpired(w.minute, AT + 11 * 60_000), true);
  assertEquals(windowExpired(w.day, AT + 39 * 86_400_000), false);
  assertEquals(windowExpired(w.day, AT + 41 * 86_400_000), true);
  assertEquals(windowExpired(w.month, AT + 300 * 86_400_000), false);
  assertEquals(windowExpired(w.month, AT + 450 * 86_400_000), true);
});
