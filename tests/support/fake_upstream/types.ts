/**
 * The public types of the fake upstream: its options, its handle, the failures it can be told to
 * send and the record of every request it saw.
 * @module
 */

/** Options for {@linkcode startFakeUpstream}. */
export interface FakeUpstreamOptions {
  /** fixed delay before every response's headers, ms (default 0) */
  delayMs?: number;
  /** gzip JSON/SSE responses when the request's accept-encoding includes gzip, like Google (default true) */
  gzip?: boolean;
  /** number of SSE chunks streamGenerateContent sends (default 3) */
  streamChunks?: number;
  /** pause between two streamed chunks, ms (default 0: one timer tick, so chunks are separate writes) */
  chunkDelayMs?: number;
}

/** One request as the fake received it, plus what it answered. */
export interface RecordedRequest {
  method: string;
  /** URL pathname as received (a `//ws/...` path is kept as is) */
  path: string;
  /** raw query string including "?" or "" */
  search: string;
  /** request headers, lower-case names */
  headers: Record<string, string>;
  /** credential seen: x-goog-api-key header, else ?key=, else Authorization Bearer value */
  key: string | null;
  /** bytes of request body received, counted while streaming */
  bodyBytes: number;
  /** request body text when <= 1 MiB, else null */
  body: string | null;
  responseStatus: number;
  /** the uncompressed body sent, filled in once fully written (for a WebSocket: the frames sent, one a line) */
  responseBody: string;
  /** resolves when the response body has been fully written or the client cancelled */
  done: Promise<void>;
  /** true if the client aborted mid-response */
  cancelled: boolean;
}

/**
 * A way the fake can be told to fail, shaped like Google's real errors.
 *
 * - `invalid_key`: 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID.
 * - `permission_denied`: 403; `reason` picks the API-disabled, key-restricted or leaked-key
 *   variant, none gives the plain "caller does not have permission" one.
 * - `quota`: 429 RESOURCE_EXHAUSTED with Help, QuotaFailure (free-tier quota id for `scope`, the
 *   requested model in quotaDimensions, or `quotaModel`, as Google names the model behind an alias
 *   or version) and RetryInfo; `legacy` gives the old detail-less form.
 * - `status`: 500 INTERNAL, 503 UNAVAILABLE (model overloaded) or 504 DEADLINE_EXCEEDED.
 * - `bad_request`: 400 INVALID_ARGUMENT blaming the payload (BadRequest detail, no ErrorInfo).
 * - `location`: 400 FAILED_PRECONDITION for an unsupported user location.
 * - `cut_stream`: streams only; send `afterChunks` chunks, then append a bare pretty-printed
 *   error object (`error`) or simply end without the finishing chunk.
 * - `slow_first_byte`: wait `ms` before the headers, then answer normally.
 */
export type Failure =
  | { kind: "invalid_key" }
  | {
    kind: "permission_denied";
    reason?: "SERVICE_DISABLED" | "API_KEY_SERVICE_BLOCKED" | "LEAKED";
  }
  | {
    kind: "quota";
    scope: "minute" | "day" | "tokens_minute";
    retryDelaySeconds?: number;
    legacy?: boolean;
    quotaModel?: string;
  }
  | { kind: "status"; code: 500 | 503 | 504 }
  | { kind: "bad_request" }
  | { kind: "location" }
  | { kind: "cut_stream"; afterChunks: number; error?: 429 | 503 }
  | { kind: "slow_first_byte"; ms: number };

/** Handle on a running fake upstream. */
export interface FakeUpstream {
  /** base URL, "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  /** every HTTP request (WebSocket upgrades too), in arrival order */
  requests: RecordedRequest[];
  /**
   * Make requests carrying `key` fail. `model` limits it to one model id ("gemini-2.5-flash");
   * `times` is how many requests fail (default: forever).
   */
  failFor(key: string, failure: Failure, opts?: { model?: string; times?: number }): void;
  /** make every request (any key) fail as given */
  failAll(failure: Failure, opts?: { model?: string; times?: number }): void;
  /**
   * Hold every stream before it sends chunk `index` (0-based) until `release()` is called.
   * `reached` resolves when a stream first waits there.
   */
  holdStreamChunk(index: number): { reached: Promise<void>; release(): void };
  /** the keys this fake accepts; when non-empty, any other key gets invalid_key */
  validKeys: Set<string>;
  /** clear requests, failures, holds, valid keys and stored files/caches/batches */
  reset(): void;
  /** release holds, close WebSockets and stop the server */
  close(): Promise<void>;
}
