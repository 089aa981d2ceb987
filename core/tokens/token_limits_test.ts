import { assertEquals } from "../../tests/assert.ts";
import { activeLimits, judgeCharge, tokenWindows, windowExpired } from "./token_limits.ts";

// 2026-01-15 12:00 PST.
const AT = Date.parse("2026-01-15T20:00:30Z");
const MIDNIGHT = Date.parse("2026-01-16T08:00:00Z");

Deno.test("tokenWindows() names the clock minute, Pacific day and Pacific month", () => {
  assertEquals(tokenWindows(AT), {
    minute: `m${Math.floor(AT / 60_000)}`,
    day: "d2026-01-15",
    month: "M2026-01",
  });
  // 2026-02-01 03:00 UTC is still January 31 in California.
  assertEquals(tokenWindows(Date.parse("2026-02-01T03:00:00Z")).month, "M2026-01");
});

Deno.test("judgeCharge() refuses at the limit and names the window end", () => {
  const zero = { minuteRequests: 0, dayRequests: 0, dayTokens: 0 };
  assertEquals(judgeCharge({ ...zero, minuteRequests: 9 }, { rpm: 10 }, AT), { ok: true });
  assertEquals(judgeCharge({ ...zero, minuteRequests: 10 }, { rpm: 10 }, AT), {
    ok: false,
    limit: "rpm",
    retryAt: Date.parse("2026-01-15T20:01:00Z"),
  });
  assertEquals(judgeCharge({ ...zero, dayRequests: 5 }, { rpd: 5 }, AT), {
    ok: false,
    limit: "rpd",
    retryAt: MIDNIGHT,
  });
  assertEquals(judgeCharge({ ...zero, dayTokens: 999 }, { tpd: 1000 }, AT), { ok: true });
  assertEquals(judgeCharge({ ...zero, dayTokens: 1200 }, { tpd: 1000 }, AT).ok, false);
});

Deno.test("judgeCharge() reports the longest wait when several limits are hit", () => {
  const full = { minuteRequests: 10, dayRequests: 100, dayTokens: 0 };
  const result = judgeCharge(full, { rpm: 10, rpd: 100 }, AT);
  assertEquals(result, { ok: false, limit: "rpd", retryAt: MIDNIGHT });
});

Deno.test("activeLimits() is null for a token without limits", () => {
  assertEquals(activeLimits(undefined), null);
  assertEquals(activeLimits({}), null);
  assertEquals(activeLimits({ rpm: 3 }), { rpm: 3 });
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

Deno.test("judgeCharge() admits a reservation that fits the budget and refuses one that does not", () => {
  const counts = { minuteRequests: 0, dayRequests: 0, dayTokens: 0, monthCostMicros: 900 };
  const limits = { budgetMicros: 1000 };
  const monthEnd = Date.parse("2026-02-01T08:00:00Z");
  assertEquals(judgeCharge(counts, limits, AT, { reserveMicros: 100 }), { ok: true });
  assertEquals(judgeCharge(counts, limits, AT, { reserveMicros: 101 }), {
    ok: false,
    limit: "budget",
    retryAt: monthEnd,
  });
  const spent = { ...counts, monthCostMicros: 1000 };
  assertEquals(judgeCharge(spent, limits, AT, { reserveMicros: 0 }).ok, false, "budget spent");
  assertEquals(judgeCharge(spent, limits, AT), { ok: true }, "a call Google does not bill");
  const both = judgeCharge({ ...spent, minuteRequests: 5 }, { ...limits, rpm: 5 }, AT, {
    reserveMicros: 1,
  });
  assertEquals(both, { ok: false, limit: "budget", retryAt: monthEnd }, "the longest wait wins");
  assertEquals(activeLimits({ budgetMicros: 5 }), { budgetMicros: 5 });
});
