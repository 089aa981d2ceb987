/**
 * The bounded queue between the hot path and the store: records are pushed synchronously and
 * written in batches in the background; their aggregate counters are held in memory and written
 * about once a second in one batch, and on every full {@linkcode LogWriter.flush}.
 *
 * A batch that fails is retried as it was (the same records, the same counters under the same
 * batch id), so a store that wrote part of it before failing ends up with each record once and
 * each counter added once. So a store must never refuse a batch for good, or that batch would hold
 * the queue: each keeps every record within what it can take (the Deno KV store sizes pages as V8
 * stores them and clips the bodies of a record too large for a page alone; the Supabase store
 * slices requests by size and cleans what `jsonb` refuses).
 * @module
 */
import type { Logger } from "./logger.ts";
import type { AggregateBatch, LogRecord, Store } from "../store/mod.ts";
import { DeltaBuffer, type ModelLabel } from "./delta_buffer.ts";
import { SerialRuns } from "../utils/mod.ts";

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
  /** Clock (epoch ms) deciding when aggregate counters are due (default `Date.now`). */
  now?: () => number;
  /**
   * While records keep coming, {@linkcode LogWriter.tick} writes aggregate counters at most this
   * often, ms (default 1000, or 0 with `waitUntil`: a serverless isolate may stop at any time).
   */
  aggregateIntervalMs?: number;
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
  /**
   * Writes everything queued so far, records and aggregate counters (tests, shutdown). Never
   * throws; failed batches stay queued.
   */
  flush(): Promise<void>;
  /**
   * Writes queued records, and the aggregate counters when `aggregateIntervalMs` has passed since
   * they were last written or when nothing was queued (the host's periodic sync). Never throws.
   */
  tick(): Promise<void>;
  /** Records waiting. */
  readonly depth: number;
  /**
   * Aggregate counter rows (per minute, hour and day, key, model and token) of the records written
   * so far that are held in memory, not yet in the store: those of a write under way included.
   * With {@linkcode LogWriter.depth} at 0 too, everything served so far is stored.
   */
  readonly countersPending: number;
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
  #now: () => number;
  #interval: number;
  #queue: LogRecord[] = [];
  /** The batch being written: retried as it is until the store takes it. */
  #batch: LogRecord[] | null = null;
  /** Counters of written records, not yet handed to the store. */
  #deltas: DeltaBuffer;
  /** The counter batch being written: retried under the same id until the store takes it. */
  #aggregates: AggregateBatch | null = null;
  #aggregatedAt = -Infinity;
  /** Drops not yet added to the store's `logs_dropped` counter. */
  #droppedUnsaved = 0;
  /** Writes of records (and the counters they start), one at a time; the argument is `all`. */
  #writes = new SerialRuns<boolean>((all) => this.#writeAll(all));
  /**
   * Counter writes, one at a time. They run beside the record writes, never in their way: with
   * many keys a second's counters take longer to write than its records, and records must not
   * queue behind them.
   */
  #counts = new SerialRuns<boolean>((all) => this.#countAll(all));
  #recordsFailing = false;
  #countersFailing = false;
  #listeners = new Set<(record: LogRecord) => void>();

  constructor(options: LogWriterOptions) {
    this.#options = options;
    this.#maxQueue = options.maxQueue ?? 50_000;
    this.#batchSize = options.batchSize ?? 500;
    this.#now = options.now ?? Date.now;
    this.#interval = options.aggregateIntervalMs ?? (options.waitUntil ? 0 : 1000);
    this.#deltas = new DeltaBuffer(options.modelLabel);
  }

  get countersPending(): number {
    return this.#deltas.size + (this.#aggregates?.rows.length ?? 0);
  }

  get depth(): number {
    return this.#queue.length + (this.#batch?.length ?? 0);
  }

  push(record: LogRecord): void {
    if (this.#listeners.size > 0) this.#tell(record);
    if (this.depth >= this.#maxQueue) {
      this.dropped++;
      this.#droppedUnsaved++;
      return;
    }
    this.#queue.push(record);
    if (this.#queue.length >= this.#batchSize && !this.#writes.busy) {
      const p = this.tick();
      this.#options.waitUntil?.(p);
    }
  }

  flush(): Promise<void> {
    return this.#run(true);
  }

  tick(): Promise<void> {
    return this.#run(false);
  }

  subscribe(listener: (record: LogRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #tell(record: LogRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch { /* a tail client's problem is not the proxy's */ }
    }
  }

  /** One write at a time: a tick shares the one on its way, a full flush runs after it. */
  #run(all: boolean): Promise<void> {
    return all ? this.#writes.fresh(true) : this.#writes.join(false);
  }

  async #writeAll(all: boolean): Promise<void> {
    // Counters wait for the interval only while records keep coming: a tick with nothing queued
    // writes what is held, so a host that stops soon after its last request loses nothing.
    const idle = this.depth === 0;
    this.#recordsFailing = !(await this.#writeRecords());
    this.failing = this.#recordsFailing || this.#countersFailing;
    const due = idle || this.#now() - this.#aggregatedAt >= this.#interval;
    if (all || due || this.#aggregates) {
      const counting = this.#count(all);
      // A flush waits for every counter; a tick leaves them to their own write.
      if (all) await counting;
      else this.#options.waitUntil?.(counting);
    }
    if (this.#droppedUnsaved > 0) {
      const n = this.#droppedUnsaved;
      this.#droppedUnsaved = 0;
      await this.#options.store.addCounter("logs_dropped", n).catch(() =>
        this.#droppedUnsaved += n
      );
    }
  }

  /** Writes queued records, batch by batch; false when the store failed. */
  async #writeRecords(): Promise<boolean> {
    const { store } = this.#options;
    while (this.#batch || this.#queue.length > 0) {
      const batch = this.#batch ??= this.#queue.splice(0, this.#batchSize);
      try {
        await store.insertLogs(batch, [], this.#options.retentionMs);
      } catch (error) {
        this.#warn("writing request logs failed; keeping them queued", error);
        return false;
      }
      this.#batch = null;
      this.written += batch.length;
      this.#deltas.add(batch);
    }
    return true;
  }

  /**
   * One counter write at a time: a tick while one runs leaves it be (the next tick writes what
   * came meanwhile); a full flush waits for it, then writes everything held.
   */
  #count(all: boolean): Promise<void> {
    return all ? this.#counts.fresh(true) : this.#counts.join(false);
  }

  async #countAll(all: boolean): Promise<void> {
    this.#countersFailing = !(await this.#writeAggregates(all));
    this.failing = this.#recordsFailing || this.#countersFailing;
  }

  /**
   * Writes the held counters, a failed batch first, then what has been counted since: once, or
   * until nothing is held when `all` (counters of records written meanwhile keep coming, and a
   * second's worth coalesces far better than a stream of small batches). False when the store
   * failed.
   */
  async #writeAggregates(all: boolean): Promise<boolean> {
    this.#aggregatedAt = this.#now();
    let taken = false;
    for (;;) {
      if (!this.#aggregates) {
        if (this.#deltas.size === 0 || (taken && !all)) return true;
        this.#aggregates = { id: crypto.randomUUID(), rows: this.#deltas.take() };
        taken = true;
      }
      try {
        await this.#options.store.addAggregates(this.#aggregates);
      } catch (error) {
        this.#warn("writing aggregate counters failed; keeping them", error);
        return false;
      }
      this.#aggregates = null;
    }
  }

  #warn(message: string, error: unknown): void {
    if (!this.failing) this.#options.logger.log("warn", message, { error });
  }
}
