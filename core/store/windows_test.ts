import { assertEquals } from "../../tests/support/assert.ts";
import { windowAt, windowExpired, windowNames } from "./windows.ts";

// 2026-01-15 12:00 PST.
const AT = Date.parse("2026-01-15T20:00:30Z");

Deno.test("windowNames() names the clock minute, Pacific day and Pacific month", () => {
  assertEquals(windowNames(AT), {
    minute: `m${Math.floor(AT / 60_000)}`,
    day: "d2026-01-15",
    month: "M2026-01",
  });
  // 03:00 UTC on 1 February is still 31 January in California.
  assertEquals(windowNames(Date.parse("2026-02-01T03:00:00Z")).month, "M2026-01");
});

Deno.test("windowAt() names its window as windowNames() does", () => {
  const names = windowNames(AT);
  assertEquals(
    [windowAt("minute", AT).name, windowAt("day", AT).name, windowAt("month", AT).name],
    [names.minute, names.day, names.month],
  );
});

Deno.test("windowExpired() keeps ten minutes, forty days and about a year", () => {
  const w = windowNames(AT);
  assertEquals([windowExpired(w.minute, AT), windowExpired(w.day, AT)], [false, false]);
  assertEquals(windowExpired(w.minute, AT + 11 * 60_000), true);
  assertEquals(windowExpired(w.day, AT + 39 * 86_400_000), false);
  assertEquals(windowExpired(w.day, AT + 41 * 86_400_000), true);
  assertEquals(windowExpired(w.month, AT + 300 * 86_400_000), false);
  assertEquals(windowExpired(w.month, AT + 450 * 86_400_000), true);
});
