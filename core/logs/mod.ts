/**
 * What happened: the operator's log lines and the request log.
 *
 * - {@linkcode createLogger}: structured, levelled log lines with every secret redacted.
 * - {@linkcode createInFlight}: requests whose record is not finished yet.
 * - {@linkcode createLogWriter}: queues finished requests' records and writes them with their
 *   aggregate counters to the store in batches, off the hot path, bounded.
 * - {@linkcode buildStats} and the aggregate helpers: the dashboard's series from those counters.
 * - {@linkcode errorGroupOf}: the error classes and how the console groups them.
 * @module
 */
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from "./logger.ts";
export { createLogWriter, type LogWriter, type LogWriterOptions } from "./log_writer.ts";
export { createInFlight, type InFlight } from "./in_flight.ts";
export {
  buildStats,
  granularityFor,
  LATENCY_BOUNDS_MS,
  ROLLUP,
  type Series,
  type Stats,
  type StatsOptions,
} from "./aggregates.ts";
export { batchDeltas, coalesce, deltasOf, type ModelLabel } from "./deltas.ts";
export { ERROR_CLASSES, ERROR_GROUPS, type ErrorGroup, errorGroupOf } from "./error_groups.ts";
