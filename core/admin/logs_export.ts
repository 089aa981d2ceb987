/**
 * Exports the logs matching a filter as CSV or NDJSON, streamed: a `ReadableStream` that reads
 * one page from the store each time the client is ready for more, so an export of any size holds
 * one page in memory and its first bytes leave before the last page is read.
 * @module
 */
import type { LogFilter, LogRecord, Store } from "../store/mod.ts";
import { errorGroupOf } from "../logs/mod.ts";
import { maskAddress } from "../proxy/mod.ts";
import { formatUsd } from "../cost/mod.ts";

/** Export formats. */
export type ExportFormat = "csv" | "ndjson";

/** Options of {@linkcode exportLogs}. */
export interface ExportOptions {
  /** CSV (one header line) or NDJSON (one record per line). */
  format: ExportFormat;
  /** Whether client addresses are written in full (default: masked to /24 or /48). */
  reveal?: boolean;
  /** Records read per store call (default 200). */
  pageSize?: number;
}

/** The CSV columns, in order. */
export const CSV_COLUMNS = [
  "id",
  "time",
  "status",
  "error_class",
  "error_side",
  "model",
  "method",
  "flavour",
  "stream",
  "token",
  "token_id",
  "key",
  "key_id",
  "attempts",
  "ttfb_ms",
  "duration_ms",
  "prompt_tokens",
  "output_tokens",
  "total_tokens",
  "cost_usd",
  "cost_unknown",
  "client",
  "path",
  "user_agent",
] as const;

/**
 * A stream of the matching logs, newest first, paged through the store as it is read.
 * @param store The store.
 * @param filter Which logs.
 * @param options Format, address masking, page size.
 * @returns UTF-8 bytes of the export.
 */
export function exportLogs(
  store: Store,
  filter: LogFilter,
  options: ExportOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const pageSize = options.pageSize ?? 200;
  const line = options.format === "csv"
    ? (r: LogRecord) => csvLine(csvRow(r, options.reveal === true))
    : (r: LogRecord) => JSON.stringify(presentLog(r, options.reveal === true)) + "\n";
  let cursor: string | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // The CSV header leaves with the first page. A page may come back empty with a cursor (a
      // backend bounds each scan): read on until there is something to send or nothing left.
      let text = !started && options.format === "csv" ? csvLine(CSV_COLUMNS) : "";
      for (;;) {
        const page = await store.listLogs(filter, pageSize, started ? cursor : null);
        started = true;
        cursor = page.cursor;
        text += page.logs.map(line).join("");
        if (text) controller.enqueue(encoder.encode(text));
        if (cursor === null) return controller.close();
        if (text) return;
      }
    },
  }, { highWaterMark: 1 });
}

/**
 * A log record as admin answers show it: the client address masked unless revealed.
 * @param record The stored record.
 * @param reveal Whether the full address is shown.
 */
export function presentLog(record: LogRecord, reveal: boolean): LogRecord {
  return { ...record, client: reveal ? record.client ?? null : maskAddress(record.client) };
}

function csvRow(r: LogRecord, reveal: boolean): (string | number | boolean | null)[] {
  return [
    r.id,
    new Date(r.time).toISOString(),
    r.status,
    r.errorClass,
    r.errorClass ? errorGroupOf(r.errorClass) : null,
    r.model,
    r.method,
    r.flavour,
    r.stream,
    r.tokenName,
    r.tokenId,
    r.keyMasked,
    r.keyId,
    r.attempts.length,
    r.ttfbMs,
    r.durationMs,
    r.usage?.prompt ?? null,
    r.usage?.candidates ?? null,
    r.usage?.total ?? null,
    r.costMicros === undefined || r.costUnknown ? null : formatUsd(r.costMicros).slice(1),
    r.costUnknown ? true : r.costMicros === undefined ? null : false,
    reveal ? r.client ?? null : maskAddress(r.client),
    r.path,
    r.userAgent,
  ];
}

/**
 * One CSV line (RFC 4180 quoting). Text that a spreadsheet would run as a formula (`=`, `+`, `-`,
 * `@`, tab, carriage return first) gets a leading apostrophe: user agents and paths come from
 * clients.
 */
function csvLine(values: readonly (string | number | boolean | null)[]): string {
  return values.map((v) => {
    if (v === null) return "";
    if (typeof v !== "string") return String(v);
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  }).join(",") + "\r\n";
}
