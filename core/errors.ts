/**
 * The one error type of the project and the helpers that turn it into Google's error envelope.
 *
 * Everything the proxy rejects by itself answers with the same JSON shape Google uses
 * (`{"error":{"code","message","status","details"}}`), so every SDK surfaces it naturally.
 * @module
 */

/** Google RPC status names by HTTP status, as Gemini uses them. */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "INVALID_ARGUMENT",
  408: "DEADLINE_EXCEEDED",
  409: "ABORTED",
  411: "INVALID_ARGUMENT",
  413: "INVALID_ARGUMENT",
  414: "INVALID_ARGUMENT",
  415: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  431: "INVALID_ARGUMENT",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** A detail entry of Google's error envelope (`google.rpc.*`). */
export type ErrorDetail = { "@type": string } & Record<string, unknown>;

/** Options of {@linkcode HttpError}. */
export interface HttpErrorOptions {
  /** The underlying error, kept for server logs only. */
  cause?: unknown;
  /** Overrides the Google status name derived from the HTTP status. */
  status?: string;
  /** `ErrorInfo.reason`, added as a detail when given. */
  reason?: string;
  /** Extra detail entries (RetryInfo, QuotaFailure...). */
  details?: ErrorDetail[];
  /** Extra response headers, such as `Retry-After`. */
  headers?: Record<string, string>;
}

/**
 * An error whose message is deliberate and safe to show to the client.
 *
 * @example
 * ```ts
 * throw new HttpError(401, "Proxy token is not valid", { reason: "PROXY_TOKEN_INVALID" });
 * ```
 */
export class HttpError extends Error {
  /** HTTP status code answered to the client. */
  readonly code: number;
  /** Google status name, e.g. `RESOURCE_EXHAUSTED`. */
  readonly status: string;
  /** Detail entries of the envelope. */
  readonly details: ErrorDetail[];
  /** Extra response headers. */
  readonly headers: Record<string, string>;

  /**
   * @param code HTTP status code.
   * @param message Client-facing message: sentence case, no trailing period.
   * @param options Cause, status name, reason and details.
   */
  constructor(code: number, message: string, options: HttpErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.code = code;
    this.status = options.status ?? statusName(code);
    this.headers = options.headers ?? {};
    this.details = [...(options.details ?? [])];
    if (options.reason) {
      this.details.unshift({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: options.reason,
        domain: "gemini-proxy",
      });
    }
  }

  /** The error as Google's envelope object. */
  toJSON(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = {
      code: this.code,
      message: this.message,
      status: this.status,
    };
    if (this.details.length > 0) error.details = this.details;
    return { error };
  }

  /** The error as a `Response` with the envelope pretty-printed like Google's. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.toJSON(), null, 2), {
      status: this.code,
      headers: { "content-type": "application/json; charset=UTF-8", ...this.headers },
    });
  }
}

/**
 * The Google status name for an HTTP status.
 * @param code HTTP status code.
 * @returns e.g. `NOT_FOUND` for 404; `UNKNOWN` when there is no mapping.
 */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? (code >= 500 ? "INTERNAL" : "UNKNOWN");
}

/**
 * A RetryInfo detail for a delay in seconds (rounded up, as Google gives whole seconds).
 * @param seconds Delay before a retry may succeed.
 */
export function retryInfo(seconds: number): ErrorDetail {
  return {
    "@type": "type.googleapis.com/google.rpc.RetryInfo",
    retryDelay: `${Math.max(0, Math.ceil(seconds))}s`,
  };
}
