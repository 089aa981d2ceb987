/**
 * The Live API: an authenticated, admitted WebSocket upgrade is handed to the platform's bridge
 * with a key the pool picked, and relayed frame by frame (close codes kept).
 * @module
 */
import { HttpError } from "../errors.ts";
import { admit } from "./admit.ts";
import { upstreamSearch } from "./credentials.ts";
import type { ProxyExchange } from "./exchange.ts";
import { noKey, takeKey } from "./pick_key.ts";

/**
 * Opens a Live session: admits it, picks a key and upgrades the connection.
 * @param exchange The upgrade request, authenticated.
 * @returns The platform's 101 answer; the record completes at once.
 * @throws {HttpError} 400 without an upgrade, 501 where the platform cannot relay WebSockets,
 *   503 or 429 when no key can serve the model.
 */
export async function openLive(exchange: ProxyExchange): Promise<Response> {
  const { app, request, route, record } = exchange;
  await admit(exchange);
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(400, "The Live API needs a WebSocket upgrade request");
  }
  if (!app.liveBridge) {
    throw new HttpError(501, "This deployment cannot relay WebSockets");
  }
  const key = (await takeKey(app, { model: route.model, skip: new Set() })).key;
  if (!key) throw noKey(app, route.model);
  app.poolSync.countUse(key, route.model);
  record.keyId = key.id;
  record.keyMasked = key.record.masked;
  const search = upstreamSearch(route.query);
  const keyParam = `key=${encodeURIComponent(key.value)}`;
  const wsBase = app.config.upstreamUrl.replace(/^http/, "ws");
  const response = app.liveBridge(
    request,
    `${wsBase}${route.path}${search ? `${search}&` : "?"}${keyParam}`,
  );
  record.status = 101;
  app.log.finish(record, {});
  return response;
}
