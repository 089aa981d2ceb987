/**
 * Regional failover from the proxy's side: the request goes once to a fallback deployment
 * (`FALLBACK_PROXY_URLS`) when this deployment's region is blocked or Google refused its
 * location, and the fallback's answer is relayed as the proxy's own.
 * @module
 */
import { classifyUpstream } from "../rotation/mod.ts";
import { readBounded } from "../utils/mod.ts";
import { upstreamSearch } from "./credentials.ts";
import { finishError } from "./error_answer.ts";
import type { ReadExchange } from "./exchange.ts";
import { clientHeaders } from "./headers.ts";
import type { RelayReason } from "./regional_relay.ts";
import { respond } from "./respond.ts";
import { rebuild } from "./upstream_call.ts";

/**
 * Sends the request to a fallback deployment and relays its answer.
 * @param exchange The request, its body read.
 * @param reason Why it leaves this deployment.
 * @returns The fallback's answer, or null when the request may not be relayed or no fallback
 *   could be reached (the caller answers as it would have).
 */
export async function relayOut(
  exchange: ReadExchange,
  reason: RelayReason,
): Promise<Response | null> {
  const { app, request, route, record, body } = exchange;
  // An upload session lives with the deployment (and key) that started it: chunks stay here.
  if (route.kind === "upload_chunk" || record.relayedTo !== undefined) return null;
  if (!app.relay?.mayRelay(request, body.replayable)) return null;
  const answer = await app.relay.forward(request, {
    path: route.path,
    search: upstreamSearch(route.query),
    body: body.body instanceof Uint8Array ? body.body : null,
    region: record.region,
    reason,
  });
  record.relayedTo = answer?.target ?? null;
  record.relayReason = reason;
  if (!answer) return null;
  const { response } = answer;
  record.ttfbMs = app.now() - record.time;
  record.keyId = record.keyMasked = null;
  if (response.status >= 400) {
    const text = await readBounded(response);
    const errorClass = answer.refused
      ? "relay_rejected"
      : classifyUpstream(response.status, text, { now: app.now() }).errorClass;
    return finishError(exchange, { response: rebuild(response, text), text, errorClass });
  }
  record.status = response.status;
  return await respond(
    { log: app.log, logBodies: app.config.logBodies, record, route },
    { response, headers: clientHeaders(response.headers), onUsage: () => {} },
  );
}
