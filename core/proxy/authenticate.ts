/**
 * Stage 3, authenticate: who is asking. A client with a proxy token, a fallback deployment
 * relaying with the shared secret, or (for an upload chunk) the session the proxy started.
 * @module
 */
import type { ProxyExchange } from "./exchange.ts";
import { clientCredential } from "./credentials.ts";
import { pinUploadSession } from "./pin.ts";
import { refuseCredentialMinting } from "./refused_routes.ts";
import { noteToken } from "./request_log.ts";
import { checkToken } from "./token_check.ts";

/**
 * Authenticates the request against a fresh snapshot, noting the token on its record.
 * @param exchange The request.
 * @throws {HttpError} 401 or 403 for a missing, unknown, disabled or expired token or a bad
 *   relay signature; 404 for an unknown upload session; 403 for a route that mints credentials.
 */
export async function authenticate(exchange: ProxyExchange): Promise<void> {
  const { app, request, route, record } = exchange;
  // Judged against a snapshot at most a second old: revoked and new tokens, changed keys.
  await app.registry.ensureFresh();
  const credential = clientCredential(request.headers, route.query);
  if (route.kind === "upload_chunk" && route.uploadId) {
    exchange.pinned = await pinUploadSession(exchange, route.uploadId);
    if (credential) {
      noteToken(record, exchange.token = await checkToken(app.registry, credential, app.now()));
    }
  } else if (
    !(exchange.relayed = await app.relay?.accept(request, route.path, exchange.url.search) ?? null)
  ) {
    noteToken(record, exchange.token = await checkToken(app.registry, credential, app.now()));
  } else {
    record.relayedFrom = exchange.relayed.from;
  }
  refuseCredentialMinting(route);
}
