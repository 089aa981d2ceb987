/**
 * Reading a client's request body for the proxy: streamed through when large, buffered when small
 * enough to replay on another key or when the proxy must look inside (OpenAI routes).
 * @module
 */
import { HttpError } from "../errors.ts";
import { limitBody } from "./body_limit.ts";
import { deadline } from "../utils/mod.ts";
import { type HeaderList, listedHeader } from "./headers.ts";

/** The body as the proxy will send it upstream. */
export interface PreparedBody {
  /** What to hand to fetch: bytes when buffered, a stream otherwise. */
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;
  /** Whether the body can be sent again (buffered or empty). */
  replayable: boolean;
  /** Parsed JSON, when the body was buffered and is JSON (OpenAI routes). */
  json: unknown;
  /** The body as text, when buffered and JSON. */
  text: string | null;
  /** True once a streamed body has passed its limit. */
  exceeded(): boolean;
  /** Bytes of body read so far (all of it once sent). */
  bytes(): number;
}

/** Options of {@linkcode prepareBody}. */
export interface PrepareOptions {
  /** Largest body accepted at all. */
  maxBodyBytes: number;
  /** Largest body buffered for replay; larger ones are streamed. */
  maxBufferedBytes: number;
  /** Parse and require JSON (OpenAI routes): invalid JSON is refused with a 400 envelope. */
  requireJson: boolean;
  /** Longest wait for a buffered body to arrive, ms (default 60 s). */
  bodyTimeoutMs?: number;
  /** The request's headers, read once (`readHeaders`). */
  headers: HeaderList;
}

/**
 * The body length the client declared (`content-length`), 0 when it declared none.
 * @param headers The client request's headers (`readHeaders`).
 */
export function declaredLength(headers: HeaderList): number {
  return Number(listedHeader(headers, "content-length") ?? "0");
}

/** Deepest JSON nesting accepted in bodies the proxy parses (Google's own limit is about 100). */
const MAX_JSON_DEPTH = 100;
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Prepares the request body for forwarding.
 * @param request The client request.
 * @param options Limits and whether JSON is required.
 * @returns The prepared body.
 * @throws {HttpError} 413 when the body is over the limit, 400 for invalid required JSON.
 */
export async function prepareBody(
  request: Request,
  options: PrepareOptions,
): Promise<PreparedBody> {
  if (!request.body) return new BufferedBody(null, undefined, null);
  const { headers } = options;
  const declared = listedHeader(headers, "content-length");
  const length = declared === null ? null : Number(declared);
  const small = length !== null && Number.isFinite(length) && length <= options.maxBufferedBytes;
  if (!small && !options.requireJson) {
    const limited = limitBody(request.body, options.maxBodyBytes);
    return {
      body: limited.body,
      replayable: false,
      json: undefined,
      text: null,
      exceeded: limited.exceeded,
      bytes: limited.bytes,
    };
  }
  const timeoutMs = options.bodyTimeoutMs ?? 60_000;
  // A declared length is enforced by the HTTP layer, so the runtime's own reader (fast, native)
  // can take the body whole; otherwise read chunk by chunk against the limit.
  const bytes = small
    ? await withTimeout(request.bytes() as Promise<Uint8Array<ArrayBuffer>>, timeoutMs)
    : await readAll(request.body, { limit: options.maxBodyBytes, timeoutMs });
  const { json, text } = parseBody(bytes, {
    type: listedHeader(headers, "content-type") ?? "",
    requireJson: options.requireJson,
  });
  return new BufferedBody(bytes, json, text);
}

/**
 * A body read whole (or none): replayable, never over its limit. A class, so no closures per
 * request. `body` may be rewritten before it is sent (`askForUsage`); `bytes()` stays the size
 * the client sent.
 */
class BufferedBody implements PreparedBody {
  readonly replayable = true;
  readonly #size: number;
  constructor(
    public body: Uint8Array<ArrayBuffer> | null,
    readonly json: unknown,
    readonly text: string | null,
  ) {
    this.#size = body === null ? 0 : body.byteLength;
  }

  exceeded(): boolean {
    return false;
  }

  bytes(): number {
    return this.#size;
  }
}

/** A buffered body as text (JSON, or no type) and, when JSON is required, parsed. */
function parseBody(
  bytes: Uint8Array<ArrayBuffer>,
  kind: { type: string; requireJson: boolean },
): { json: unknown; text: string | null } {
  if (!kind.requireJson) {
    const text = kind.type.includes("json") || kind.type === "" ? decoder.decode(bytes) : null;
    return { json: undefined, text };
  }
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch (cause) {
    throw new HttpError(400, "Invalid JSON payload received: the body is not valid UTF-8", {
      cause,
    });
  }
  if (text && nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new HttpError(
      400,
      `Invalid JSON payload received: nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  try {
    return { json: bytes.byteLength ? JSON.parse(text) : undefined, text };
  } catch (cause) {
    const detail = cause instanceof SyntaxError ? `: ${cause.message}` : ": nested too deeply";
    throw new HttpError(400, `Invalid JSON payload received${detail}`, { cause });
  }
}

/** `promise`, or a 408 once `timeoutMs` have passed: one promise, where a race takes five. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = deadline(timeoutMs, () => reject(bodyTimeout(timeoutMs)));
    promise.then((value) => {
      cancel();
      resolve(value);
    }, (error) => {
      cancel();
      reject(error);
    });
  });
}

function bodyTimeout(timeoutMs: number): HttpError {
  return new HttpError(408, `Request body was not received within ${timeoutMs} ms`);
}

async function readAll(
  body: ReadableStream<Uint8Array>,
  bounds: { limit: number; timeoutMs: number },
): Promise<Uint8Array<ArrayBuffer>> {
  const { limit, timeoutMs } = bounds;
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  let cancel = () => {};
  // A client trickling its body must not hold a connection and a buffer forever.
  const expired = new Promise<never>((_, reject) => {
    cancel = deadline(timeoutMs, () => reject(bodyTimeout(timeoutMs)));
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), expired]);
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        throw new HttpError(413, `Request body exceeds ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    cancel();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The deepest bracket nesting in JSON text, ignoring brackets inside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}
