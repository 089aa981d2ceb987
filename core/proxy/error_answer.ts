/**
 * Stage 11, record, for error answers: the request's record is completed with the answer the
 * client gets (an upstream error relayed as read, or the proxy's own in Google's envelope), and
 * every answer carries the record's id as `x-request-id`.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { ProxyExchange } from "./exchange.ts";
import { proxyErrorClass } from "./request_log.ts";

const encoder = new TextEncoder();

/**
 * Completes the record of an upstream error answered to the client; its body is already read.
 * @param exchange The request.
 * @param answer The answer, its body as text, and the error class to log.
 * @returns The answer.
 */
export function finishError(
  exchange: ProxyExchange,
  answer: { response: Response; text: string; errorClass: string | null },
): Response {
  const { record, app } = exchange;
  record.status = answer.response.status;
  record.errorClass = answer.errorClass;
  if (app.config.logBodies !== "none") {
    record.responseBody = app.log.clip(answer.text);
    if (record.requestBody === undefined && record.bytesIn > 0) {
      record.requestBody = "(body not kept)";
    }
  }
  app.log.finish(record, { bytes: encoder.encode(answer.text).byteLength });
  return answer.response;
}

/**
 * The proxy's own answer to a request a stage refused or failed: Google's envelope, logged when
 * it is the proxy's fault (5xx), recorded with its error class.
 * @param exchange The request.
 * @param error What a stage threw.
 * @returns The answer, with `x-request-id`.
 */
export function answerError(exchange: ProxyExchange, error: unknown): Response {
  const { record, route, app } = exchange;
  const httpError = error instanceof HttpError
    ? error
    : new HttpError(500, "Internal proxy error", { cause: error });
  if (httpError.code >= 500) {
    app.logger.log("error", httpError.message, {
      path: route.path,
      error: httpError.cause ?? error,
    });
  }
  record.status = httpError.code;
  record.errorClass ??= proxyErrorClass(httpError);
  const response = httpError.toResponse();
  if (app.config.logBodies !== "none") {
    record.responseBody = app.log.clip(JSON.stringify(httpError.toJSON()));
  }
  app.log.finish(record, { bytes: JSON.stringify(httpError.toJSON(), null, 2).length });
  setHeader(response, { name: "x-request-id", value: record.id });
  return response;
}

/**
 * Sets a header on a response whose headers may be immutable (a WebSocket upgrade).
 * @param response The response.
 * @param header The header's name and value.
 */
export function setHeader(response: Response, header: { name: string; value: string }): void {
  try {
    response.headers.set(header.name, header.value);
  } catch {
    // Immutable headers: the id is still in the log.
  }
}
