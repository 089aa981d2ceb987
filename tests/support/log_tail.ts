/**
 * Awaiting request log records as the proxy queues them, through its live tail
 * (`gateway.logs.subscribe`), instead of sleeping until a record is probably there: a record is
 * queued when the proxy has seen its request end (a stream finished, cut or left by its client),
 * which may be after the client's last byte.
 * @module
 */

/** What the tail needs of the proxy's log queue. */
export interface LogQueue<R extends { id: string }> {
  /** Calls `listener` with every record as it is queued; returns an unsubscribe. */
  subscribe(listener: (record: R) => void): () => void;
}

/** Records queued since {@linkcode tailLogs} was called. */
export interface LogTail<R extends { id: string }> {
  /** Resolves with the record of request `id` once it is queued (at once if it already was). */
  record(id: string): Promise<R>;
  /** Stops listening. */
  close(): void;
}

/**
 * Starts listening to a proxy's log queue. Call it before the requests whose records a test
 * awaits, so none is missed.
 * @param logs The proxy's log queue (`h.proxy.gateway.logs`).
 * @example
 * ```ts
 * const tail = tailLogs(h.proxy.gateway.logs);
 * const response = await h.generate();
 * const record = await tail.record(response.headers.get("x-request-id")!);
 * ```
 */
export function tailLogs<R extends { id: string }>(logs: LogQueue<R>): LogTail<R> {
  const seen = new Map<string, R>();
  const waiting = new Map<string, PromiseWithResolvers<R>>();
  const unsubscribe = logs.subscribe((record) => {
    seen.set(record.id, record);
    waiting.get(record.id)?.resolve(record);
  });
  return {
    record(id) {
      const known = seen.get(id);
      if (known) return Promise.resolve(known);
      let wait = waiting.get(id);
      if (!wait) waiting.set(id, wait = Promise.withResolvers<R>());
      return wait.promise;
    },
    close: unsubscribe,
  };
}
