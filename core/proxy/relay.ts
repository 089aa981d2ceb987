/**
 * Stage 10, relay: a successful upstream answer goes on to the client without buffering. On the
 * way, an upload session's URL is rewritten to point back at the proxy, and resources the answer
 * creates are pinned to the key whose project now owns them.
 * @module
 */
import { type ActiveKey, createdResources } from "../rotation/mod.ts";
import type { ReadExchange } from "./exchange.ts";
import { clientHeaders, type HeaderList, listedHeader, setListedHeader } from "./headers.ts";
import { respond } from "./respond.ts";
import { rewriteUploadUrl, UPLOAD_SESSION_TTL_MS } from "./uploads.ts";

/** POST methods whose answer names a resource owned by the key's project. */
const CREATING = new Set(["batchGenerateContent", "predictLongRunning", "asyncBatchEmbedContent"]);
/** Collections whose POST creates a resource. */
const CREATED_COLLECTION = /\/(cachedContents|tunedModels|corpora)$/;
const encoder = new TextEncoder();

/**
 * Relays an upstream answer under 400 to the client.
 * @param exchange The request, its body read.
 * @param answer The key that got it and upstream's response.
 * @returns The response for the client (a promise when it must be read or pinned first); the
 *   record completes when its last byte has passed.
 */
export function relay(
  exchange: ReadExchange,
  answer: { key: ActiveKey; upstream: Response },
): Response | Promise<Response> {
  const { route } = exchange;
  const { key, upstream } = answer;
  const headers = clientHeaders(upstream.headers);
  // In the list the answer is built from (in place of any upstream sent): no `Headers.set` on
  // the answer afterwards.
  setListedHeader(headers, "x-request-id", exchange.record.id);
  exchange.idSent = true;
  if (route.kind === "upload" || route.kind === "upload_chunk") {
    return rememberUploadSession(exchange, { key, headers }).then(() =>
      relayWith(exchange, answer, headers)
    );
  }
  return relayWith(exchange, answer, headers);
}

/** The answer with its client headers: pinned first when it creates resources, else as it is. */
function relayWith(
  exchange: ReadExchange,
  answer: { key: ActiveKey; upstream: Response },
  headers: HeaderList,
): Response | Promise<Response> {
  const { app, request, route, record, model } = exchange;
  const { key, upstream } = answer;
  if (upstream.ok && createsResource(exchange, headers)) {
    return relayCreated(exchange, { key, upstream, headers });
  }
  if (app.logger.enabled("debug")) {
    app.logger.log("debug", "proxied", {
      method: request.method,
      path: route.path,
      status: upstream.status,
      key: key.record.masked,
    });
  }
  // The token is charged when the record is finished (see `account`).
  return respond(
    { log: app.log, logBodies: app.config.logBodies, record, route },
    {
      response: upstream,
      headers,
      onUsage: (usage) => {
        if (usage) app.poolSync.addTokens(key, model, usage.total);
      },
    },
  );
}

/** Points the session's upload URL back at the proxy and pins the session to the key. */
async function rememberUploadSession(
  exchange: ReadExchange,
  answer: { key: ActiveKey; headers: HeaderList },
): Promise<void> {
  const { config, affinity } = exchange.app;
  const uploadId = await rewriteUploadUrl(answer.headers, {
    upstreamUrl: config.upstreamUrl,
    publicOrigin: config.publicUrl ?? publicOrigin(exchange.request, exchange.url),
  });
  if (uploadId) {
    await affinity.remember(`upload:${uploadId}`, answer.key.id, UPLOAD_SESSION_TTL_MS);
  }
}

/** Whether the answer names a resource the request created. */
function createsResource(exchange: ReadExchange, headers: HeaderList): boolean {
  const { request, route } = exchange;
  const status = listedHeader(headers, "x-goog-upload-status");
  return request.method === "POST" && route.kind !== "openai" && (
    status === "final" ||
    (route.kind === "upload" && status === null) ||
    CREATING.has(route.method) ||
    CREATED_COLLECTION.test(route.path)
  );
}

/** An answer that creates resources: read whole, so their names can be pinned to the key. */
async function relayCreated(
  exchange: ReadExchange,
  answer: { key: ActiveKey; upstream: Response; headers: HeaderList },
): Promise<Response> {
  const { app, record } = exchange;
  const { upstream } = answer;
  const text = await upstream.text();
  try {
    for (const name of createdResources(JSON.parse(text))) {
      await app.affinity.remember(name, answer.key.id);
    }
  } catch {
    // Not JSON: nothing to pin; the body is relayed as it came.
  }
  if (app.config.logBodies === "all") record.responseBody = app.log.clip(text);
  app.log.finish(record, { bytes: encoder.encode(text).byteLength, usage: null });
  return new Response(text, { status: upstream.status, headers: answer.headers });
}

/** The origin clients reach this deployment at, as a reverse proxy tells it. */
function publicOrigin(request: Request, url: URL): string {
  const host = request.headers.get("x-forwarded-host");
  const proto = request.headers.get("x-forwarded-proto");
  if (host && /^[\w.\-:[\]]+$/.test(host)) {
    return `${proto === "http" ? "http" : "https"}://${host}`;
  }
  return url.origin;
}
