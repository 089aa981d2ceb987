/**
 * The streaming relay: one layer between upstream's body and the client. Each chunk is read from
 * upstream when the client asks for more, handed on at once (never held for the next one), and
 * shown to the usage reader on the way; OpenAI streams pass the usage stripper first. No
 * TransformStream, no extra promise per chunk beyond the one upstream read.
 *
 * Upstream is read into a buffer of the relay's own (a BYOB read) rather than the runtime's: the
 * runtime allocates 64 KiB for every read of a fetch body, and a held stream always has a read
 * waiting, so a thousand held streams would pin 64 MB of empty buffers, and every small chunk
 * handed on would keep its 64 KiB alive. Here a stream waits with one small buffer, reused, and
 * a small chunk goes on as an exact-size copy; reads that fill the buffer hand it over whole and
 * the next buffer grows, so large bodies still move in large reads.
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
  const upstream = upstreamReader(body);
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
  upstream: ChunkReader,
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

/**
 * First buffer of a stream's reads, bytes: room for a typical SSE event (a few hundred bytes of
 * text). Each held stream keeps one; an event that fills it makes the next buffer twice the size.
 */
const FIRST_READ_BYTES = 2 * 1024;
/** Largest buffer of a stream's reads, bytes (the runtime's own read size). */
const LARGEST_READ_BYTES = 64 * 1024;

/** Reads one chunk at a time from upstream. */
interface ChunkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/** A BYOB reader on a byte stream (fetch bodies are), else the stream's default reader. */
function upstreamReader(body: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  return new OwnBufferReader(byob);
}

/** Reads into one reused buffer, handing on exact-size chunks (see the module doc). */
class OwnBufferReader implements ChunkReader {
  #reader: ReadableStreamBYOBReader;
  #buffer: ArrayBuffer = new ArrayBuffer(FIRST_READ_BYTES);

  constructor(reader: ReadableStreamBYOBReader) {
    this.#reader = reader;
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const result = await this.#reader.read(new Uint8Array(this.#buffer));
    const view = result.value;
    if (result.done || view === undefined) return { done: true, value: undefined };
    const size = view.buffer.byteLength;
    if (view.byteLength * 2 <= size) {
      // A small chunk: copied out, and the buffer (handed back by the read) kept for the next.
      this.#buffer = view.buffer as ArrayBuffer;
      return { done: false, value: view.slice() };
    }
    // A read that (nearly) filled the buffer: the buffer goes on, the next one is larger.
    this.#buffer = new ArrayBuffer(
      view.byteLength === size ? Math.min(size * 2, LARGEST_READ_BYTES) : size,
    );
    return { done: false, value: view };
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }
}
