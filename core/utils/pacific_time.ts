/**
 * Gemini's daily quotas reset at midnight in America/Los_Angeles; this computes that moment.
 * @module
 */

const formatter = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Los_Angeles",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

function wallClock(epochMs: number): { y: number; m: number; d: number; asUtc: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(epochMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const y = parts.year ?? 1970;
  const m = parts.month ?? 1;
  const d = parts.day ?? 1;
  const asUtc = Date.UTC(y, m - 1, d, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return { y, m, d, asUtc: asUtc + (epochMs % 1000 + 1000) % 1000 };
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
