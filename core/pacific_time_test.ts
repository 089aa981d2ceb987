import { assertEquals } from "../tests/assert.ts";
import { nextPacificMidnight, pacificDay } from "./pacific_time.ts";

Deno.test("nextPacificMidnight() in winter is 08:00 UTC the next day", () => {
  const noonPst = Date.parse("2026-01-15T20:00:00Z");
  assertEquals(new Date(nextPacificMidnight(noonPst)).toISOString(), "2026-01-16T08:00:00.000Z");
});

Deno.test("nextPacificMidnight() in summer is 07:00 UTC the next day", () => {
  const noonPdt = Date.parse("2026-07-01T19:00:00Z");
  assertEquals(new Date(nextPacificMidnight(noonPdt)).toISOString(), "2026-07-02T07:00:00.000Z");
});

Deno.test("nextPacificMidnight() on both sides of midnight", () => {
  const justBefore = Date.parse("2026-01-16T07:59:59Z");
  const justAfter = Date.parse("2026-01-16T08:00:01Z");
  assertEquals(new Date(nextPacificMidnight(justBefore)).toISOString(), "2026-01-16T08:00:00.000Z");
  assertEquals(new Date(nextPacificMidnight(justAfter)).toISOString(), "2026-01-17T08:00:00.000Z");
});

Deno.test("nextPacificMidnight() across the spring and autumn daylight-saving changes", () => {
  // 2026-03-08: clocks go forward at 02:00 PST; the next midnight is in PDT.
  const beforeSpring = Date.parse("2026-03-08T06:00:00Z"); // Mar 7, 22:00 PST
  assertEquals(
    new Date(nextPacificMidnight(beforeSpring)).toISOString(),
    "2026-03-08T08:00:00.000Z",
  );
  const springDay = Date.parse("2026-03-08T18:00:00Z"); // Mar 8, 11:00 PDT
  assertEquals(new Date(nextPacificMidnight(springDay)).toISOString(), "2026-03-09T07:00:00.000Z");
  // 2026-11-01: clocks go back at 02:00 PDT; the next midnight is in PST.
  const autumnDay = Date.parse("2026-11-01T18:00:00Z"); // Nov 1, 10:00 PST
  assertEquals(new Date(nextPacificMidnight(autumnDay)).toISOString(), "2026-11-02T08:00:00.000Z");
  const beforeAutumn = Date.parse("2026-10-31T20:00:00Z"); // Oct 31, 13:00 PDT
  assertEquals(
    new Date(nextPacificMidnight(beforeAutumn)).toISOString(),
    "2026-11-01T07:00:00.000Z",
  );
});

Deno.test("pacificDay() names the Pacific calendar day", () => {
  assertEquals(pacificDay(Date.parse("2026-01-16T07:59:59Z")), "2026-01-15");
  assertEquals(pacificDay(Date.parse("2026-01-16T08:00:00Z")), "2026-01-16");
});
