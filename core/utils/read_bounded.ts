/**
 * Reading an answer's body with a bound, for bodies the proxy reads to judge them.
 * @module
 */

/** Largest body read, bytes; the rest is dropped. */
export const MAX_ERROR_BYTES = 1024 * 1024;

/**
 * Reads a response body as text up to a bound (an upstream's error, a fallback's refusal); the
 * rest is dropped and the read cancelled.
 * @param response An answer whose body is unread.
 * @returns At most {@linkcode MAX_ERROR_BYTES} of its body, decoded.
 */
export async function readBounded(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total > MAX_ERROR_BYTES) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // A body cut short still tells what it can.
  }
  return new TextDecoder().decode(concat(chunks, total));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk.subarray(0, Math.min(chunk.byteLength, total - offset)), offset);
    offset += chunk.byteLength;
  }
  return out;
}
