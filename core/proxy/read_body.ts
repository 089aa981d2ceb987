/**
 * Stage 4, read body: the body as it will go upstream (buffered when small enough to replay on
 * another key, streamed otherwise), and the model it names.
 * @module
 */
import type { ProxyExchange, ReadExchange } from "./exchange.ts";
import { listedHeader } from "./headers.ts";
import { bodyModel } from "./model_id.ts";
import { prepareBody, type PreparedBody } from "./request_body.ts";

/**
 * Reads the body as it will go upstream. The stage is two calls, so that the one promise per
 * request is the read's own: `withBody(exchange, await readBody(exchange))`.
 * @param exchange The request.
 * @returns The prepared body.
 * @throws {HttpError} 413 over `MAX_BODY_BYTES`, 408 when it trickles, 400 for bad JSON.
 */
export function readBody(exchange: ProxyExchange): Promise<PreparedBody> {
  const { app, request, route, headers } = exchange;
  const { config } = app;
  return prepareBody(request, {
    headers,
    maxBodyBytes: config.maxBodyBytes,
    // A relay's body is signed: it is read whole to be checked before anything is sent.
    maxBufferedBytes: exchange.relayed ? config.maxBodyBytes : config.maxBufferedBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    requireJson: route.kind === "openai" && request.method === "POST" &&
      !(listedHeader(headers, "content-type") ?? "").startsWith("multipart/"),
  });
}

/**
 * Notes the body's model, size and streaming on the record.
 * @param exchange The request.
 * @param body Its body, read by {@linkcode readBody}.
 * @returns The request with its body.
 * @throws {HttpError} 400 for a model name the body gives that is not one.
 */
export function withBody(exchange: ProxyExchange, body: PreparedBody): ReadExchange {
  const { app, route, record } = exchange;
  const { config } = app;
  const model = route.model ?? bodyModel(body.json, route.kind);
  record.model = model;
  record.bytesIn = body.bytes();
  if ((body.json as { stream?: unknown } | undefined)?.stream === true) record.stream = true;
  if (config.logBodies === "all" && body.text) record.requestBody = app.log.clip(body.text);
  return Object.assign(exchange, { body, model });
}
