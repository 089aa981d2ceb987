/**
 * Stage 5, admit: the client's token lets the request in under its model allow-list, its
 * limits and its budget, reserving what the request may cost until it ends.
 * @module
 */
import type { ProxyExchange } from "./exchange.ts";
import { declaredLength, type PreparedBody } from "./request_body.ts";

/**
 * Admits the request for its token; relays and token-less upload chunks pass.
 * @param exchange The request.
 * @param body Its body, once read (a Live session has none).
 * @returns Undefined when admitted at once, else a promise of the admission (rejected with
 * the refusal).
 * @throws {HttpError} What the token's allow-list, limits or budget refuse.
 */
export function admit(exchange: ProxyExchange, body?: PreparedBody): Promise<void> | undefined {
  const { app, token, record, route } = exchange;
  if (!token) return;
  const admitted = body === undefined ? { bytes: 0 } : {
    bytes: body.replayable
      ? body.bytes()
      : declaredLength(exchange.headers) || app.config.maxBodyBytes,
    json: body.json,
    text: body.text,
  };
  return app.accounting.admit({ token, record, kind: route.kind, body: admitted });
}
