/**
 * Money as the console shows and reads it. Costs and budgets travel in whole micro-dollars
 * (µUSD, 1 USD = 1,000,000 µUSD); an unknown cost is never shown as $0: it reads "unknown", or
 * "+ N unpriced" beside the part that is known.
 * @module
 */

const MICROS = 1_000_000;
const dollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const whole = new Intl.NumberFormat("en-US");
/** Largest amount the admin API takes (`limits.budgetMicros`). */
const MAX_MICROS = 1e15;

/**
 * An amount of µUSD in dollars: cents from one cent up (`$1,234.57`), and below a cent every
 * digit down to the µUSD (`$0.00155`), so a small cost never reads as `$0.00`.
 * @param micros Whole µUSD.
 * @example
 * ```ts
 * formatUsd(25_000_000); // "$25.00"
 * formatUsd(1550); // "$0.00155"
 * ```
 */
export function formatUsd(micros: number): string {
  const abs = Math.abs(Math.round(micros));
  if (abs === 0 || abs >= MICROS / 100) return dollars.format(Math.round(micros) / MICROS);
  const digits = String(abs).padStart(6, "0").replace(/0+$/, "");
  return `${micros < 0 ? "-" : ""}$0.${digits}`;
}

/**
 * A total that may hold requests of unknown cost (an unpriced model, a stream cut before its
 * usage): `$1.23`, `$1.23 + 4 unpriced`, or `unknown (4 unpriced)` when nothing of it is known.
 * @param micros Known cost, µUSD.
 * @param unknown Requests whose cost is unknown.
 */
export function formatCost(micros: number, unknown = 0): string {
  if (unknown <= 0) return formatUsd(micros);
  const count = `${whole.format(unknown)} unpriced`;
  return micros > 0 ? `${formatUsd(micros)} + ${count}` : `unknown (${count})`;
}

/**
 * One request's cost: its amount, `unknown`, or a dash for records older than cost.
 * @param record `costMicros` and `costUnknown` of a log record.
 */
export function formatRecordCost(record: { costMicros?: number; costUnknown?: boolean }): string {
  if (record.costUnknown) return "unknown";
  return record.costMicros === undefined ? "–" : formatUsd(record.costMicros);
}

/**
 * A chart axis label for an amount of µUSD: short, in dollars (`$0.0015`, `$2.5`, `$1.2K`).
 * @param micros µUSD (a tick value, not necessarily whole).
 */
export function formatUsdAxis(micros: number): string {
  const usd = micros / MICROS;
  const abs = Math.abs(usd);
  if (abs >= 1e6) return `$${+(usd / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `$${+(usd / 1e3).toFixed(1)}K`;
  if (abs >= 1 || abs === 0) return `$${+usd.toFixed(2)}`;
  return `$${+usd.toPrecision(2)}`;
}

/**
 * An amount of µUSD as the text of a form field: `25`, `0.5`, `0.000001`.
 * @param micros Whole µUSD (undefined: empty).
 */
export function usdInput(micros: number | undefined): string {
  if (micros === undefined) return "";
  const cents = String(micros % MICROS).padStart(6, "0").replace(/0+$/, "");
  return `${Math.floor(micros / MICROS)}${cents ? `.${cents}` : ""}`;
}

/**
 * Reads an amount in USD typed by the admin, exactly (no floating point): `25`, `$25.50`,
 * `1,000`, `0.000001`.
 * @param text What was typed (empty: no amount).
 * @returns Whole µUSD, or null for an empty field.
 * @throws {Error} When it is not a positive amount of at most 6 decimal places.
 */
export function parseUsd(text: string): number | null {
  const trimmed = text.trim().replace(/^\$\s*/, "");
  if (trimmed === "") return null;
  const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,6}))?$/.exec(trimmed);
  if (!match) {
    throw new Error(
      `"${
        text.trim().slice(0, 40)
      }" is not an amount in USD with at most 6 decimals (e.g. 25 or 0.50)`,
    );
  }
  const units = Number(match[1]!.replaceAll(",", ""));
  const micros = units * MICROS + Number((match[2] ?? "").padEnd(6, "0"));
  if (micros <= 0) throw new Error(`"${trimmed}" is not a positive amount`);
  if (micros > MAX_MICROS) throw new Error(`"${trimmed}" is more than $1,000,000,000`);
  return micros;
}
