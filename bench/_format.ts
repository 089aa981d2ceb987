/**
 * Lookups and number formats shared by the report's sections.
 * @module
 */
import type { BenchResults, Cell, StreamCell } from "./_results.ts";
import type { Route, TargetKind } from "./_targets.ts";

/** The wrk cell for a delay, route, target and connection count. */
export function cell(
  r: BenchResults,
  delay: number,
  route: Route,
  target: TargetKind,
  connections: number,
): Cell | undefined {
  return r.cells.find((c) =>
    c.delayMs === delay && c.route === route && c.target === target &&
    c.connections === connections
  );
}

/** The stream measurement for a delay, route and target. */
export function stream(
  r: BenchResults,
  delay: number,
  route: Route,
  target: TargetKind,
): StreamCell | undefined {
  return r.streams.find((s) => s.delayMs === delay && s.route === route && s.target === target);
}

/** Size of a generateContent reply as measured, for the setup text. */
export function replyBytes(r: BenchResults): string {
  const direct = r.cells.find((c) => c.target === "direct" && c.route === "native");
  return direct
    ? `${int(direct.wrk.bytesPerRequest)} bytes with headers (about 1 KB of JSON body)`
    : "about 1 KB";
}

/** Mean requests per second over rounds. */
export function mean(rounds: { rps: number }[]): number {
  return rounds.reduce((sum, w) => sum + w.rps, 0) / Math.max(1, rounds.length);
}

/** One markdown table row. */
export function tableRow(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** A 0-1 share as a percentage, or `-`. */
export function share(n: number | null): string {
  return n === null ? "-" : pct(n);
}

/** A target's verdict. */
export function v(ok: boolean | null): string {
  return ok === null ? "not measured" : ok ? "met" : "**not met**";
}

/** A whole number with thousands separators. */
export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Milliseconds, two decimals. */
export function ms(n: number): string {
  return `${n.toFixed(2)} ms`;
}

/** Megabytes, whole. */
export function mb(n: number): string {
  return `${n.toFixed(0)} MB`;
}

/** A ratio as a whole percentage. */
export function pct(n: number): string {
  return `${(n * 100).toFixed(0)}%`;
}

/** A ratio as `1.23x`. */
export function times(n: number): string {
  return `${n.toFixed(2)}x`;
}

/** A number with its sign. */
export function signed(n: number, digits = 2): string {
  return `${n >= 0 ? "+" : ""}${n.toFixed(digits)}`;
}
