/**
 * Formatting shared by pages and islands (runs on the server and in the browser).
 * @module
 */

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat("en");

/**
 * A count, compact above 10,000 (`12.3K`).
 * @param n The number.
 */
export function formatCount(n: number): string {
  return Math.abs(n) >= 10_000 ? compact.format(n) : whole.format(n);
}

/**
 * A count with its noun, singular for one: `1 request`, `2,500 requests`, `12.3K requests`.
 * @param n The number.
 * @param noun The singular noun; its plural adds an `s`.
 */
export function formatCountOf(n: number, noun: string): string {
  return `${formatCount(n)} ${n === 1 ? noun : `${noun}s`}`;
}

/**
 * An epoch ms as the value of a `datetime-local` input, in UTC (the console's time zone).
 * @param epochMs The moment.
 */
export function utcInputValue(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 16);
}

/**
 * Reads a `datetime-local` input's value as a UTC moment.
 * @param value `YYYY-MM-DDTHH:mm` (seconds optional).
 * @returns Epoch ms, or null when the value is empty or not a date.
 */
export function fromUtcInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const at = Date.parse(`${value}Z`);
  return Number.isNaN(at) ? null : at;
}

/**
 * A duration in ms as `850 ms`, `2.4 s` or `3 min`.
 * @param ms Milliseconds (null or infinite: a dash).
 */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * A countdown as `m:ss` (or `h:mm:ss`).
 * @param seconds Seconds left.
 */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/**
 * A moment as a short date and time that says its zone, e.g. `2026-01-15 20:00:03 UTC`. The
 * console shows UTC everywhere (pages are rendered on the server, charts and tables alike), so
 * times read the same for every admin and in exports.
 * @param epochMs The moment (undefined: a dash).
 */
export function formatTime(epochMs: number | undefined | null): string {
  if (epochMs === undefined || epochMs === null) return "–";
  return new Date(epochMs).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/**
 * How long ago a moment was, relative to another, e.g. `5 min ago`.
 * @param epochMs The moment.
 * @param now The reference moment (the server's clock).
 */
export function formatAgo(epochMs: number | undefined, now: number): string {
  if (epochMs === undefined) return "never";
  const s = Math.max(0, Math.round((now - epochMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/**
 * The CSS class of a status pill for an HTTP status.
 * @param status HTTP status.
 */
export function statusClass(status: number): string {
  return status < 400 ? "ok" : status === 429 ? "warn" : "bad";
}

/**
 * An ARIA boolean attribute value (rendered as `"true"`/`"false"`, never dropped).
 * @param value The state.
 */
export function ariaBool(value: boolean): "true" | "false" {
  return value ? "true" : "false";
}
