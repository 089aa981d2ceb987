/**
 * Stage 4, read body: the body as it will go upstream (buffered when small enough to replay on
 * another key, streamed otherwise), and the model it names.
 * @module
 */
import type { ProxyExchange, ReadExchange } from "./exchange.ts";
import { bodyModel } from "./model_id.ts";
import { prepareBody } from "./request_body.ts";

/**
 * Reads the body and notes its model, size and streaming on the record.
 * @param exchange The request.
 * @returns The request with its body.
 * @throws {HttpError} 413 over `MAX_BODY_BYTES`, 408 when it trickles, 400 for bad JSON or model.
 */
export async function readBody(exchange: ProxyExchange): Promise<ReadExchange> {
  const { app, request, route, record } = exchange;
  const { config } = app;
  const body = await prepareBody(request, {
    maxBodyBytes: config.maxBodyBytes,
    // A relay's body is signed: it is read whole to be checked before anything is sent.
    maxBufferedBytes: exchange.relayed ? config.maxBodyBytes : config.maxBufferedBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    requireJson: route.kind === "openai" && request.method === "POST" &&
      !(request.headers.get("content-type") ?? "").startsWith("multipart/"),
  });
  const model = route.model ?? bodyModel(body.json, route.kind);
  record.model = model;
  record.bytesIn = body.bytes();
  if ((body.json as { stream?: unknown } | undefined)?.stream === true) record.stream = true;
  if (config.logBodies === "all" && body.text) record.requestBody = app.log.clip(body.text);
  return Object.assign(exchange, { body, model });
}
