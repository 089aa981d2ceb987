/**
 * The streaming relay: one layer between upstream's body and the client. Each chunk is read from
 * upstream when the client asks for more, handed on at once (never held for the next one), and
 * shown to the usage reader on the way; OpenAI streams pass the usage stripper first. No
 * TransformStream, no extra promise per chunk beyond the one upstream read.
 * @module
 */
import type { UsageReader, UsageStripper } from "../usage/mod.ts";

/** What the relay does with the chunks besides passing them on. */
export interface StreamRelay {
  /** Reads usage from every chunk the client gets, and reports when the body ends. */
  reader: UsageReader;
  /** Removes usage the client did not ask for (OpenAI streams), before the chunk goes on. */
  stripper?: UsageStripper | undefined;
  /** Called once, before the error travels on, when an upstream read fails (not a client leaving). */
  onUpstreamError: () => void;
}

/**
 * Relays an upstream body to the client through one pull-based stream.
 * @param body Upstream's body.
 * @param relay The usage reader, the stripper when asked for, and the upstream-failure hook.
 * @returns The body for the client's response.
 * @example
 * ```ts
 * const reader = createUsageReader("native", (result) => console.log(result.usage));
 * const client = relayStream(upstream.body!, { reader, onUpstreamError: () => {} });
 * ```
 */
export function relayStream(
  body: ReadableStream<Uint8Array>,
  relay: StreamRelay,
): ReadableStream<Uint8Array> {
  const upstream = body.getReader();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return pump(upstream, { controller, relay });
    },
    cancel(reason) {
      // The client went away: what was read is reported, and upstream's read is cancelled.
      relay.reader.report(true);
      return upstream.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Moves one chunk (or the end) to the client. Reads again only while the stripper holds an
 * event back: a pull that enqueues nothing would not be called again.
 */
async function pump(
  upstream: ReadableStreamDefaultReader<Uint8Array>,
  to: { controller: ReadableStreamDefaultController<Uint8Array>; relay: StreamRelay },
): Promise<void> {
  const { controller, relay } = to;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await upstream.read();
    } catch (error) {
      relay.onUpstreamError();
      relay.reader.report(true);
      controller.error(error);
      return;
    }
    if (result.done) {
      const tail = relay.stripper?.end() ?? null;
      if (tail !== null) pass(tail, to);
      relay.reader.end();
      controller.close();
      return;
    }
    const out = relay.stripper ? relay.stripper.push(result.value) : result.value;
    if (out === null || out.byteLength === 0) continue;
    pass(out, to);
    return;
  }
}

function pass(
  chunk: Uint8Array,
  to: { controller: ReadableStreamDefaultController<Uint8Array>; relay: StreamRelay },
): void {
  to.controller.enqueue(chunk);
  to.relay.reader.read(chunk);
}
