import type { LogRecord } from "./log_record.ts";
import type { LogFilter } from "./records.ts";

/**
 * Whether a record passes a filter (the time range is the store's job).
 * @param record A log record.
 * @param filter The filter.
 */
export function matchesLog(record: LogRecord, filter: LogFilter): boolean {
  if (filter.from !== undefined && record.time < filter.from) return false;
  if (filter.to !== undefined && record.time >= filter.to) return false;
  if (filter.status) {
    const s = filter.status;
    if (/^\dxx$/i.test(s)) {
      if (Math.floor(record.status / 100) !== Number(s[0])) return false;
    } else if (String(record.status) !== s) return false;
  }
  if (filter.errorClass && record.errorClass !== filter.errorClass) return false;
  if (filter.model && !contains(record.model, filter.model)) return false;
  if (
    filter.search && !contains(record.path, filter.search) &&
    !contains(record.userAgent, filter.search)
  ) {
    return false;
  }
  if (filter.keyId && record.keyId !== filter.keyId) return false;
  if (filter.tokenId && record.tokenId !== filter.tokenId) return false;
  if (filter.stream !== undefined && record.stream !== filter.stream) return false;
  if (filter.idPrefix && !record.id.startsWith(filter.idPrefix)) return false;
  return true;
}

/** Case-insensitive substring test, as the Postgres backend's `strpos(lower(..), lower(..))`. */
function contains(value: string | null | undefined, part: string): boolean {
  return value !== null && value !== undefined && value.toLowerCase().includes(part.toLowerCase());
}

/**
 * The smallest request id of a moment: ids start with the time in base 36.
 * @param epochMs A moment.
 */
export function idAt(epochMs: number): string {
  return Math.max(0, Math.floor(epochMs)).toString(36).padStart(9, "0");
}
