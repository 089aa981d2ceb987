/**
 * Stage 2, screen: refuses a request whose shape the proxy never serves (method, encoded path
 * separators, header and declared body sizes) before anything is authenticated or read.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { ProxyExchange } from "./exchange.ts";
import { headerBytes } from "./headers.ts";
import { declaredLength } from "./request_body.ts";

/** HTTP methods the Gemini API uses. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Escapes and separators a path may not smuggle past URL normalisation. */
const ENCODED_SEPARATORS = /%2f|%5c|%2e%2e|\\/i;

/**
 * Checks the request's method, path and sizes.
 * @param exchange The request.
 * @throws {HttpError} 405, 400, 431 or 413.
 */
export function screen(exchange: ProxyExchange): void {
  const { request, url } = exchange;
  const { config } = exchange.app;
  if (!METHODS.has(request.method)) {
    throw new HttpError(405, `Method "${request.method}" is not supported`, {
      headers: { allow: [...METHODS].join(", ") },
    });
  }
  const raw = request.url;
  // Every pattern holds `%` or `\`: a URL with neither passes without cutting its path out.
  if (
    (raw.includes("%") || raw.includes("\\")) &&
    ENCODED_SEPARATORS.test(raw.slice(url.origin.length).split("?")[0] ?? "")
  ) {
    throw new HttpError(
      400,
      "Encoded slashes, backslashes and dot segments are not allowed in paths",
    );
  }
  if (headerBytes(exchange.headers) > config.maxHeaderBytes) {
    throw new HttpError(431, `Request headers exceed ${config.maxHeaderBytes} bytes`);
  }
  const declared = declaredLength(exchange.headers);
  if (declared > config.maxBodyBytes) {
    throw new HttpError(413, `Request body of ${declared} bytes exceeds ${config.maxBodyBytes}`);
  }
}
