/**
 * Stage 3, authenticate: who is asking. A client with a proxy token, a fallback deployment
 * relaying with the shared secret, or (for an upload chunk) the session the proxy started.
 * @module
 */
import type { TokenRecord } from "../store/mod.ts";
import type { ProxyExchange } from "./exchange.ts";
import { clientCredential } from "./credentials.ts";
import { listedHeader } from "./headers.ts";
import { RELAY_HEADER } from "./regional_relay.ts";
import { pinUploadSession } from "./pin.ts";
import { refuseCredentialMinting } from "./refused_routes.ts";
import { noteToken } from "./request_log.ts";
import { checkToken } from "./token_check.ts";

/**
 * Authenticates the request against a fresh snapshot, noting the token on its record.
 *
 * A client with a recent token on a fresh snapshot (nearly every request) is authenticated at
 * once, with nothing to await: a promise comes back only when something must be waited for (a
 * version probe, hashing a new credential, a relay's signature, an upload session).
 * @param exchange The request.
 * @returns Undefined when done, else a promise of the end. A refusal is always a rejected
 *   promise.
 * @throws {HttpError} 401 or 403 for a missing, unknown, disabled or expired token or a bad
 *   relay signature; 404 for an unknown upload session; 403 for a route that mints credentials.
 */
export function authenticate(exchange: ProxyExchange): Promise<void> | undefined {
  // Judged against a snapshot at most a second old: revoked and new tokens, changed keys.
  const probing = exchange.app.registry.ensureFresh();
  if (probing) return probing.then(() => identify(exchange));
  try {
    return identify(exchange);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Who is asking, on a fresh snapshot. */
function identify(exchange: ProxyExchange): Promise<void> | undefined {
  const { app, request, route, headers } = exchange;
  const credential = clientCredential(headers, route.query);
  if (route.kind === "upload_chunk" && route.uploadId) return identifyChunk(exchange, credential);
  const relaying = listedHeader(headers, RELAY_HEADER) === null
    ? null
    : app.relay?.accept(request, route.path, exchange.url.search) ?? null;
  if (relaying) {
    return relaying.then((relayed) => {
      exchange.relayed = relayed;
      exchange.record.relayedFrom = relayed.from;
      refuseCredentialMinting(route);
    });
  }
  const token = checkToken(app.registry, credential, app.now());
  if (token instanceof Promise) return token.then((t) => acceptToken(exchange, t));
  acceptToken(exchange, token);
}

/** An upload chunk belongs to the session the proxy started; a token, when sent, must be valid. */
async function identifyChunk(exchange: ProxyExchange, credential: string | null): Promise<void> {
  const { app, route, record } = exchange;
  exchange.pinned = await pinUploadSession(exchange, route.uploadId!);
  if (credential) {
    noteToken(record, exchange.token = await checkToken(app.registry, credential, app.now()));
  }
  refuseCredentialMinting(route);
}

/** Notes a valid token on the request and its record. */
function acceptToken(exchange: ProxyExchange, token: TokenRecord): void {
  noteToken(exchange.record, exchange.token = token);
  refuseCredentialMinting(exchange.route);
}
