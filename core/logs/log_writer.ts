/**
 * The bounded queue between the hot path and the store: records are pushed synchronously and
 * written in batches (with their aggregate counters) in the background.
 * @module
 */
import type { Logger } from "../logger.ts";
import type { Store } from "../store/store.ts";
import { batchDeltas, type ModelLabel } from "./aggregates.ts";
import type { LogRecord } from "./log_record.ts";

/** Options of {@linkcode createLogWriter}. */
export interface LogWriterOptions {
  /** Where records go. */
  store: Store;
  /** How long records are kept, ms. */
  retentionMs: number;
  /** Most records held in memory; past it new records are dropped and counted. */
  maxQueue?: number;
  /** Most records written in one batch. */
  batchSize?: number;
  /** Logger for failed writes. */
  logger: Logger;
  /** The name a model's aggregate counters are kept under (default: the model itself). */
  modelLabel?: ModelLabel;
  /**
   * Hands background work to the platform (Workers' `waitUntil`); by default the promise simply
   * runs.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** The queue. */
export interface LogWriter {
  /** Queues a record; never blocks, never throws. */
  push(record: LogRecord): void;
  /** Writes everything queued so far. Never throws; failed batches go back to the queue. */
  flush(): Promise<void>;
  /** Records waiting. */
  readonly depth: number;
  /** Records dropped because the queue was full, since start. */
  readonly dropped: number;
  /** Records written, since start. */
  readonly written: number;
  /** Whether the last write failed. */
  readonly failing: boolean;
  /** Calls `listener` with every record as it is queued (live tail); returns an unsubscribe. */
  subscribe(listener: (record: LogRecord) => void): () => void;
}

/**
 * Creates the queue.
 * @param options Store, retention, bounds, logger.
 */
export function createLogWriter(options: LogWriterOptions): LogWriter {
  const maxQueue = options.maxQueue ?? 50_000;
  const batchSize = options.batchSize ?? 500;
  let queue: LogRecord[] = [];
  let dropped = 0;
  let droppedUnsaved = 0;
  let written = 0;
  let failing = false;
  let flushing: Promise<void> | null = null;
  const listeners = new Set<(record: LogRecord) => void>();

  async function writeAll(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      try {
        await options.store.insertLogs(
          batch,
          batchDeltas(batch, options.modelLabel),
          options.retentionMs,
        );
        queue = queue.slice(batch.length);
        written += batch.length;
        failing = false;
      } catch (error) {
        if (!failing) {
          options.logger.log("warn", "writing request logs failed; keeping them queued", { error });
        }
        failing = true;
        return;
      }
    }
    if (droppedUnsaved > 0) {
      const n = droppedUnsaved;
      droppedUnsaved = 0;
      await options.store.addCounter("logs_dropped", n).catch(() => droppedUnsaved += n);
    }
  }

  function flush(): Promise<void> {
    flushing ??= writeAll().finally(() => flushing = null);
    return flushing;
  }

  return {
    push(record) {
      for (const listener of listeners) {
        try {
          listener(record);
        } catch { /* a tail client's problem is not the proxy's */ }
      }
      if (queue.length >= maxQueue) {
        dropped++;
        droppedUnsaved++;
        return;
      }
      queue.push(record);
      if (queue.length >= batchSize && !flushing) {
        const p = flush();
        options.waitUntil?.(p);
      }
    },
    flush,
    get depth() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
    get written() {
      return written;
    },
    get failing() {
      return failing;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
