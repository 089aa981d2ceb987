/**
 * The bounded queue between the hot path and the store: records are pushed synchronously and
 * written in batches (with their aggregate counters) in the background.
 * @module
 */
import type { Logger } from "./logger.ts";
import type { LogRecord, Store } from "../store/mod.ts";
import { batchDeltas, type ModelLabel } from "./deltas.ts";

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
  return new LogQueue(options);
}

/** The queue behind {@linkcode createLogWriter}. */
class LogQueue implements LogWriter {
  dropped = 0;
  written = 0;
  failing = false;
  #options: LogWriterOptions;
  #maxQueue: number;
  #batchSize: number;
  #queue: LogRecord[] = [];
  /** Drops not yet added to the store's `logs_dropped` counter. */
  #droppedUnsaved = 0;
  #flushing: Promise<void> | null = null;
  #listeners = new Set<(record: LogRecord) => void>();

  constructor(options: LogWriterOptions) {
    this.#options = options;
    this.#maxQueue = options.maxQueue ?? 50_000;
    this.#batchSize = options.batchSize ?? 500;
  }

  get depth(): number {
    return this.#queue.length;
  }

  push(record: LogRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch { /* a tail client's problem is not the proxy's */ }
    }
    if (this.#queue.length >= this.#maxQueue) {
      this.dropped++;
      this.#droppedUnsaved++;
      return;
    }
    this.#queue.push(record);
    if (this.#queue.length >= this.#batchSize && !this.#flushing) {
      const p = this.flush();
      this.#options.waitUntil?.(p);
    }
  }

  flush(): Promise<void> {
    this.#flushing ??= this.#writeAll().finally(() => this.#flushing = null);
    return this.#flushing;
  }

  subscribe(listener: (record: LogRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #writeAll(): Promise<void> {
    const { store } = this.#options;
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#batchSize);
      try {
        const deltas = batchDeltas(batch, this.#options.modelLabel);
        await store.insertLogs(batch, deltas, this.#options.retentionMs);
        this.#queue = this.#queue.slice(batch.length);
        this.written += batch.length;
        this.failing = false;
      } catch (error) {
        if (!this.failing) {
          this.#options.logger.log("warn", "writing request logs failed; keeping them queued", {
            error,
          });
        }
        this.failing = true;
        return;
      }
    }
    if (this.#droppedUnsaved > 0) {
      const n = this.#droppedUnsaved;
      this.#droppedUnsaved = 0;
      await store.addCounter("logs_dropped", n).catch(() => this.#droppedUnsaved += n);
    }
  }
}
