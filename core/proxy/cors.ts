/**
 * CORS for browser apps calling the proxy: preflights answered here, and responses to requests
 * that carry an `Origin` marked readable. Requests without `Origin` (servers, SDKs) pay nothing.
 * @module
 */
import { type HeaderList, listedHeader } from "./headers.ts";

/** Headers browser clients may read from proxied responses. */
const EXPOSED = [
  "x-goog-upload-url",
  "x-goog-upload-status",
  "x-goog-upload-chunk-granularity",
  "x-goog-upload-control-url",
  "x-goog-upload-size-received",
  "x-request-id",
  "retry-after",
  "content-disposition",
].join(", ");

/**
 * Answers a CORS preflight, reflecting the requested method and headers.
 * @param request An `OPTIONS` request with `Access-Control-Request-Method`.
 */
export function preflight(request: Request): Response {
  const headers = new Headers({
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
    "access-control-max-age": "86400",
  });
  const asked = request.headers.get("access-control-request-headers");
  if (asked) headers.set("access-control-allow-headers", asked);
  headers.set("vary", "Access-Control-Request-Headers");
  return new Response(null, { status: 204, headers });
}

/** Whether a request is a CORS preflight. */
export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}

/**
 * Marks a response readable by the page that asked, when the request came from a browser.
 * @param request The client request.
 * @param response The response about to be sent (its headers must be mutable).
 */
export function allowOrigin(request: Request, response: Response): Response {
  return request.headers.has("origin") ? markReadable(response) : response;
}

/**
 * {@linkcode allowOrigin} on headers already read (`readHeaders`).
 * @param headers The client request's headers.
 * @param response The response about to be sent.
 */
export function allowListedOrigin(headers: HeaderList, response: Response): Response {
  return listedHeader(headers, "origin") === null ? response : markReadable(response);
}

function markReadable(response: Response): Response {
  try {
    response.headers.set("access-control-allow-origin", "*");
    response.headers.set("access-control-expose-headers", EXPOSED);
  } catch {
    // A WebSocket upgrade's headers are immutable; browsers do not apply CORS to it.
  }
  return response;
}

/**
 * Whether a path belongs to the Gemini API surface the proxy serves (fast check, no parsing).
 * @param url The full request URL.
 */
export function isApiUrl(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return false;
  const path = url.slice(start, start + 12);
  return path.startsWith("/v1/") || path.startsWith("/v1beta/") || path.startsWith("/v1alpha/") ||
    path.startsWith("/upload/") || path.startsWith("/ws/") || path.startsWith("//ws/");
}
