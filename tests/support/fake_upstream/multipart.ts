/**
 * A streaming reader of multipart/related uploads.
 * @module
 */

import { createHash } from "node:crypto";
import { BODY_KEEP_LIMIT, enc } from "./state.ts";
import { concatBytes } from "./util.ts";

/**
 * Reads a two-part multipart/related upload (JSON metadata, then media) as it streams: only the
 * headers and a short tail are kept, the media bytes are hashed and counted.
 */
export class MultipartScanner {
  #delimiter: Uint8Array;
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #started = false;
  #failed = false;
  #tail = new Uint8Array(0);
  #hash = createHash("sha256");
  #size = 0;
  metadata = "";
  mimeType: string | undefined;

  constructor(boundary: string) {
    this.#delimiter = enc.encode(`\r\n--${boundary}`);
  }

  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    if (!this.#started) {
      this.#head.push(chunk);
      this.#headBytes += chunk.byteLength;
      const head = concatBytes(this.#head);
      const start = this.#parseHead(head);
      if (start === undefined) {
        if (this.#headBytes > BODY_KEEP_LIMIT) this.#failed = true;
        return;
      }
      this.#started = true;
      this.#head = [];
      chunk = head.subarray(start);
    }
    // Hold back enough bytes to spot the closing delimiter when the body ends.
    const keep = this.#delimiter.byteLength + 8;
    const joined = concatBytes([this.#tail, chunk]);
    const emit = Math.max(0, joined.byteLength - keep);
    if (emit > 0) {
      this.#hash.update(joined.subarray(0, emit));
      this.#size += emit;
    }
    this.#tail = joined.slice(emit);
  }

  finish(): { metadata: string; mimeType?: string; size: number; sha256Hex: string } | null {
    if (!this.#started || this.#failed) return null;
    const end = lastIndexOf(this.#tail, this.#delimiter);
    if (end < 0) return null;
    this.#hash.update(this.#tail.subarray(0, end));
    this.#size += end;
    const result: { metadata: string; mimeType?: string; size: number; sha256Hex: string } = {
      metadata: this.metadata,
      size: this.#size,
      sha256Hex: this.#hash.digest("hex"),
    };
    if (this.mimeType) result.mimeType = this.mimeType;
    return result;
  }

  /** Returns where the media bytes start, once both part headers have arrived. */
  #parseHead(head: Uint8Array): number | undefined {
    const text = new TextDecoder("latin1").decode(head);
    const boundary = new TextDecoder().decode(this.#delimiter.subarray(2));
    const first = text.indexOf(boundary);
    if (first < 0) return undefined;
    const metaStart = text.indexOf("\r\n\r\n", first);
    if (metaStart < 0) return undefined;
    const metaEnd = text.indexOf(`\r\n${boundary}`, metaStart + 4);
    if (metaEnd < 0) return undefined;
    const mediaHeadersEnd = text.indexOf("\r\n\r\n", metaEnd + 2);
    if (mediaHeadersEnd < 0) return undefined;
    this.metadata = text.slice(metaStart + 4, metaEnd);
    const mediaHeaders = text.slice(metaEnd, mediaHeadersEnd);
    this.mimeType = /content-type:\s*([^\r\n;]+)/i.exec(mediaHeaders)?.[1]?.trim();
    return mediaHeadersEnd + 4;
  }
}

function lastIndexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = haystack.byteLength - needle.byteLength; i >= 0; i--) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
