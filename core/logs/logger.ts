/**
 * Structured logging with redaction: no line leaves the process with a key in it.
 * @module
 */
import { redact } from "../secrets/mod.ts";

/** Log levels, in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Structured logger. Fields are serialised to JSON after redaction. */
export interface Logger {
  /** Logs at a level when it is enabled. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Whether a level is enabled (to skip building fields). */
  enabled(level: LogLevel): boolean;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Where lines go (default `console.error` for warn/error, `console.log` otherwise). */
  sink?: (level: LogLevel, line: string) => void;
  /** Known secrets to mask besides key-shaped strings. */
  secrets?: () => Iterable<string>;
  /** Clock for timestamps. */
  now?: () => number;
}

/**
 * Creates a logger writing one JSON object per line.
 * @param options Level, sink and secrets to hide.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const now = options.now ?? Date.now;
  const sink = options.sink ?? defaultSink;
  return {
    enabled: (level) => RANK[level] >= min,
    log(level, message, fields) {
      if (RANK[level] < min) return;
      const line = JSON.stringify({
        time: new Date(now()).toISOString(),
        level,
        message,
        ...fields,
      }, errorReplacer);
      sink(level, redact(line, options.secrets?.() ?? []));
    },
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, cause: value.cause };
  }
  return value;
}

function defaultSink(level: LogLevel, line: string): void {
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}
