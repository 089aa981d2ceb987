import { assertEquals } from "../../tests/support/assert.ts";
import { nextPacificMidnight, nextPacificMonthStart, pacificDay } from "./pacific_time.ts";

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

Deno.test("nextPacificMonthStart() is midnight Pacific on the 1st, across years and daylight saving", () => {
  const iso = (t: number) => new Date(nextPacificMonthStart(t)).toISOString();
  // January 15 (PST) -> February 1, 00:00 PST.
  assertEquals(iso(Date.parse("2026-01-15T20:00:00Z")), "2026-02-01T08:00:00.000Z");
  // March 20 (PDT) -> April 1, 00:00 PDT.
  assertEquals(iso(Date.parse("2026-03-20T20:00:00Z")), "2026-04-01T07:00:00.000Z");
  // October 20 (PDT) -> November 1, 00:00 PDT (clocks go back later that night).
  assertEquals(iso(Date.parse("2026-10-20T20:00:00Z")), "2026-11-01T07:00:00.000Z");
  // December 31, 23:30 PST -> January 1 of the next year.
  assertEquals(iso(Date.parse("2027-01-01T07:30:00Z")), "2027-01-01T08:00:00.000Z");
  // January 1, 00:30 UTC is still December 31 in Pacific time.
  assertEquals(iso(Date.parse("2027-01-01T00:30:00Z")), "2027-01-01T08:00:00.000Z");
  // The first moment of a month belongs to it.
  assertEquals(iso(Date.parse("2026-02-01T08:00:00Z")), "2026-03-01T08:00:00.000Z");
});

Deno.test("pacificDay() answers from the days it keeps exactly as formatting the moment would", () => {
  const reference = new Intl.DateTimeFormat("en-CA", {
    timeZone: "America/Los_Angeles",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  });
  // Every 67 minutes and 13 seconds over two years, both daylight-saving changes each year
  // included, plus the milliseconds on each side of some Pacific midnights; in order, backwards
  // and jumping between far-apart days, so kept days are hit, missed and replaced.
  const start = Date.parse("2025-01-01T00:00:00Z");
  const times: number[] = [];
  for (let t = start; t < start + 2 * 365 * 86_400_000; t += 4_033_000) times.push(t);
  for (const midnight of ["2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", "2026-11-01T07:00:00Z"]) {
    const at = Date.parse(midnight);
    times.push(at - 1, at, at + 1);
  }
  const orders = [
    times,
    times.slice().reverse(),
    times.map((_, i) => times[(i * 7_919) % times.length]!),
  ];
  for (const order of orders) {
    for (const t of order) {
      assertEquals(pacificDay(t), reference.format(new Date(t)), new Date(t).toISOString());
    }
  }
});

/** Pacific wall-clock fields of a moment, from the runtime's time zone data. */
function intlWallClock(): (epochMs: number) => { day: string; hour: number; minute: number } {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: "America/Los_Angeles",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  return (epochMs) => {
    const parts: Record<string, string> = {};
    for (const part of format.formatToParts(new Date(epochMs))) parts[part.type] = part.value;
    return {
      day: `${parts.year}-${parts.month}-${parts.day}`,
      hour: Number(parts.hour),
      minute: Number(parts.minute),
    };
  };
}

Deno.test("the daylight-saving rule agrees with the runtime's time zone data from 2007 to 2060", () => {
  const wall = intlWallClock();
  const start = Date.parse("2007-01-01T00:00:00Z");
  const end = Date.parse("2060-01-01T00:00:00Z");
  // Every 5 h 7 min 11 s, so the hours of the day drift through every value over the decades.
  for (let t = start; t < end; t += 18_431_000) {
    assertEquals(pacificDay(t), wall(t).day, new Date(t).toISOString());
  }
  for (let year = 2007; year < 2060; year++) {
    // Each change of the clocks, to the millisecond: the days on both sides and the next midnight.
    for (const month of [2, 10]) {
      for (let day = 1; day <= 14; day++) {
        const midnight = nextPacificMidnight(Date.UTC(year, month, day, 20));
        const after = wall(midnight);
        assertEquals([after.hour, after.minute], [0, 0], new Date(midnight).toISOString());
        assertEquals(wall(midnight - 1).hour, 23, new Date(midnight - 1).toISOString());
        for (let hour = 0; hour < 24; hour++) {
          const t = midnight + hour * 3_600_000;
          assertEquals(pacificDay(t - 1), wall(t - 1).day, new Date(t - 1).toISOString());
          assertEquals(pacificDay(t), wall(t).day, new Date(t).toISOString());
        }
      }
    }
    const monthStart = nextPacificMonthStart(Date.UTC(year, 5, 15));
    assertEquals(wall(monthStart), { day: `${year}-07-01`, hour: 0, minute: 0 });
  }
});
