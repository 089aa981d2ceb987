/** A request body wrapped so that reading stops at a byte limit. */
export interface LimitedBody {
  /** The body to hand to fetch. */
  body: ReadableStream<Uint8Array>;
  /** Whether the limit was hit. */
  exceeded(): boolean;
  /** Bytes passed so far. */
  bytes(): number;
}

/**
 * Streams a body through, erroring once more than `limit` bytes have passed. Nothing past the
 * limit is read from the client.
 * @param body The client's request body.
 * @param limit Maximum bytes.
 */
export function limitBody(body: ReadableStream<Uint8Array>, limit: number): LimitedBody {
  let seen = 0;
  let over = false;
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          over = true;
          controller.error(new RangeError(`Body exceeds ${limit} bytes`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return { body: counted, exceeded: () => over, bytes: () => seen };
}
