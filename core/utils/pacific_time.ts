/**
 * Gemini's daily quotas reset at midnight in America/Los_Angeles; this computes that moment, from
 * the United States' daylight-saving rule rather than `Intl` (see `daylightPeriod`).
 * @module
 */

const HOUR_MS = 3_600_000;
/** Pacific Standard Time, UTC-8. */
const STANDARD_OFFSET_MS = -8 * HOUR_MS;
/** Pacific Daylight Time, UTC-7. */
const DAYLIGHT_OFFSET_MS = -7 * HOUR_MS;

/**
 * The date in `month` (0-based) of its `nth` Sunday, counted from the first day.
 * @param year Full year.
 * @param month Month, 0-based.
 * @param nth 1 for the first Sunday.
 */
function nthSunday(year: number, month: number, nth: number): number {
  const firstWeekday = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + (7 - firstWeekday) % 7 + (nth - 1) * 7;
}

/**
 * When daylight-saving time runs in a year, by the United States' rule since 2007: from the
 * second Sunday of March at 02:00 PST (10:00 UTC) to the first Sunday of November at 02:00 PDT
 * (09:00 UTC). Worked out without `Intl`, whose time zone data costs a process about 7 MB of
 * resident memory; `pacific_time_test.ts` checks it against `Intl` over decades, so a change in
 * the rule shows up there when the runtime's time zone data learns of it.
 */
function daylightPeriod(year: number): readonly [number, number] {
  return [
    Date.UTC(year, 2, nthSunday(year, 2, 2), 10),
    Date.UTC(year, 10, nthSunday(year, 10, 1), 9),
  ];
}

/** Pacific time's offset from UTC at a moment, ms. */
function offsetAt(epochMs: number): number {
  // No change happens near a year's end, so the year in UTC-8 is the year that matters.
  const year = new Date(epochMs + STANDARD_OFFSET_MS).getUTCFullYear();
  const [from, to] = daylightPeriod(year);
  return epochMs >= from && epochMs < to ? DAYLIGHT_OFFSET_MS : STANDARD_OFFSET_MS;
}

function wallClock(epochMs: number): { y: number; m: number; d: number; asUtc: number } {
  const asUtc = epochMs + offsetAt(epochMs);
  const wall = new Date(asUtc);
  return { y: wall.getUTCFullYear(), m: wall.getUTCMonth() + 1, d: wall.getUTCDate(), asUtc };
}

/**
 * The next midnight in America/Los_Angeles after `epochMs`, daylight saving included.
 * @param epochMs A moment (epoch ms).
 * @returns Epoch ms of the next Pacific midnight.
 */
export function nextPacificMidnight(epochMs: number): number {
  const today = wallClock(epochMs);
  return pacificWallTime(Date.UTC(today.y, today.m - 1, today.d + 1));
}

/**
 * The start of the next calendar month in America/Los_Angeles after `epochMs`: when monthly
 * windows (token budgets) reset.
 * @param epochMs A moment (epoch ms).
 * @returns Epoch ms of midnight, Pacific time, on the first day of the next month.
 */
export function nextPacificMonthStart(epochMs: number): number {
  const today = wallClock(epochMs);
  return pacificWallTime(Date.UTC(today.y, today.m, 1));
}

/** The moment a Pacific wall-clock time (given as if it were UTC) happens. */
function pacificWallTime(target: number): number {
  // The offset at the target can differ from now's across a daylight-saving change: settle it at
  // the target itself.
  let guess = target - (wallClock(target).asUtc - target);
  guess = target - (wallClock(guess).asUtc - guess);
  return guess;
}

/**
 * The Pacific calendar day of a moment, as `YYYY-MM-DD`: the window of daily quotas.
 * @param epochMs A moment (epoch ms).
 */
export function pacificDay(epochMs: number): string {
  // Asked for thousands of times a second (every key's counters), for a handful of days: the
  // days seen last are kept with their bounds, and formatting runs once a day.
  for (const day of recentDays) if (epochMs >= day.from && epochMs < day.to) return day.name;
  const { y, m, d } = wallClock(epochMs);
  const name = `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
  const from = pacificWallTime(Date.UTC(y, m - 1, d));
  const to = pacificWallTime(Date.UTC(y, m - 1, d + 1));
  // Outside its own bounds (never, short of a time zone database change), not kept.
  if (epochMs >= from && epochMs < to) {
    recentDays.unshift({ from, to, name });
    if (recentDays.length > RECENT_DAYS) recentDays.pop();
  }
  return name;
}

/** Pacific days recently named, newest first: their start and end (epoch ms) and name. */
const recentDays: { from: number; to: number; name: string }[] = [];
/** How many days {@linkcode pacificDay} keeps (today, yesterday, a retention bound...). */
const RECENT_DAYS = 4;
