/**
 * The proxy itself: authenticate the client, swap in a real key, forward, and relay the answer
 * without buffering.
 * @module
 */
import { authenticate } from "../auth.ts";
import type { Config } from "../config.ts";
import { HttpError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ActiveKey, Registry } from "../registry.ts";
import type { KeyPicker } from "../rotation.ts";
import type { Store } from "../store/store.ts";
import { clientCredential, upstreamSearch } from "./credentials.ts";
import { clientHeaders, headerBytes, upstreamHeaders } from "./headers.ts";
import { classifyRoute, type ProxyRoute } from "./route.ts";
import { limitBody } from "./body_limit.ts";
import { recordUploadFile, rewriteUploadUrl } from "./uploads.ts";

/** Relays a Live API WebSocket: given the client's upgrade request and the upstream URL. */
export type LiveBridge = (request: Request, upstreamUrl: string) => Response;

/** Everything the proxy handler needs, injected. */
export interface ProxyDeps {
  /** Validated configuration. */
  config: Config;
  /** In-memory keys and tokens. */
  registry: Registry;
  /** Store, for resource affinity. */
  store: Store;
  /** Key selection. */
  pickKey: KeyPicker;
  /** The fetch used for upstream calls. */
  fetch: typeof fetch;
  /** Clock (epoch ms). */
  now: () => number;
  /** Logger. */
  logger: Logger;
  /** Platform WebSocket relay, when the platform has one. */
  liveBridge?: LiveBridge | undefined;
  /** Public origin of the proxy for rewritten upload URLs (default: from the request). */
  publicUrl?: string | undefined;
}

/**
 * Creates the handler for every Gemini API path.
 * @param deps Injected configuration, state and I/O.
 * @returns A function from a client request to the response relayed from upstream.
 */
export function createProxyHandler(deps: ProxyDeps): (request: Request) => Promise<Response> {
  const { config, registry, store, logger } = deps;

  return async function proxyHandler(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = classifyRoute(url.pathname, url.searchParams);
    if (!route) {
      throw new HttpError(404, `Path "${url.pathname}" is not part of the Gemini API`);
    }
    if (headerBytes(request.headers) > config.maxHeaderBytes) {
      throw new HttpError(431, `Request headers exceed ${config.maxHeaderBytes} bytes`);
    }
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > config.maxBodyBytes) {
      throw new HttpError(413, `Request body of ${declared} bytes exceeds ${config.maxBodyBytes}`);
    }
    registry.touch();

    const credential = clientCredential(request.headers, url.searchParams);
    const key = await chooseKey(route, credential);

    if (route.kind === "live") return relayLive(request, url, route, key);

    const target = config.upstreamUrl + route.path + upstreamSearch(url.search);
    const headers = upstreamHeaders(request.headers, {
      apiKey: key.value,
      bearer: route.kind === "openai",
      cfAigToken: config.cfAigToken,
    });
    const limited = request.body ? limitBody(request.body, config.maxBodyBytes) : null;
    // Linked to the client only until headers arrive: after that, relaying the body cancels the
    // upstream read when the client goes away.
    const abort = new AbortController();
    const onClientAbort = () => abort.abort(new HttpError(499, "Client closed the request"));
    request.signal.addEventListener("abort", onClientAbort, { once: true });
    const timer = setTimeout(
      () =>
        abort.abort(
          new HttpError(504, `Upstream did not answer within ${config.upstreamTimeoutMs} ms`),
        ),
      config.upstreamTimeoutMs,
    );
    let upstream: Response;
    try {
      upstream = await deps.fetch(target, {
        method: request.method,
        headers,
        body: limited?.body ?? null,
        redirect: "manual",
        signal: abort.signal,
        // @ts-ignore: `duplex` is required by fetch for streamed request bodies but missing from lib.dom.
        duplex: "half",
      });
    } catch (cause) {
      if (limited?.exceeded()) {
        throw new HttpError(413, `Request body exceeds ${config.maxBodyBytes} bytes`, { cause });
      }
      if (abort.signal.reason instanceof HttpError) throw abort.signal.reason;
      throw new HttpError(502, "Upstream is unreachable", { cause });
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onClientAbort);
    }

    const responseHeaders = clientHeaders(upstream.headers);
    if (route.kind === "upload" || route.kind === "upload_chunk") {
      await rewriteUploadUrl(responseHeaders, {
        store,
        keyId: key.id,
        upstreamUrl: config.upstreamUrl,
        publicOrigin: deps.publicUrl ?? publicOrigin(request, url),
      });
      if (responseHeaders.get("x-goog-upload-status") === "final" && upstream.ok) {
        const text = await upstream.text();
        await recordUploadFile(text, store, key.id);
        return new Response(text, { status: upstream.status, headers: responseHeaders });
      }
    }
    if (logger.enabled("debug")) {
      logger.log("debug", "proxied", {
        method: request.method,
        path: route.path,
        status: upstream.status,
        key: key.record.masked,
      });
    }
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders,
    });
  };

  async function chooseKey(route: ProxyRoute, credential: string | null): Promise<ActiveKey> {
    if (route.kind === "upload_chunk" && route.uploadId) {
      // The upload id is the session's credential upstream; the proxy only knows sessions it
      // started for an authenticated client.
      const owner = await store.getAffinity(`upload:${route.uploadId}`);
      if (owner === null) {
        throw new HttpError(404, `Upload session "${route.uploadId}" is unknown or expired`);
      }
      if (credential) await authenticate(registry, credential, deps.now());
      const key = registry.keyById(owner);
      if (!key || !key.record.enabled) {
        throw new HttpError(
          409,
          `Upload session "${route.uploadId}" belongs to a key that is no longer available`,
          {
            status: "FAILED_PRECONDITION",
          },
        );
      }
      return key;
    }
    await authenticate(registry, credential, deps.now());
    const key = deps.pickKey(route.model);
    if (!key) {
      throw new HttpError(
        503,
        registry.keys.length === 0
          ? "No Gemini API key is configured: set GEMINI_API_KEYS or add keys in the admin console"
          : "No Gemini API key is available: every key is disabled",
        { status: "UNAVAILABLE" },
      );
    }
    return key;
  }

  function relayLive(request: Request, url: URL, route: ProxyRoute, key: ActiveKey): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(400, "The Live API needs a WebSocket upgrade request");
    }
    if (!deps.liveBridge) {
      throw new HttpError(501, "This deployment cannot relay WebSockets", {
        status: "UNIMPLEMENTED",
      });
    }
    const params = new URLSearchParams(url.search);
    params.set("key", key.value);
    const wsBase = config.upstreamUrl.replace(/^http/, "ws");
    return deps.liveBridge(request, `${wsBase}${route.path}?${params}`);
  }
}

function publicOrigin(request: Request, url: URL): string {
  const host = request.headers.get("x-forwarded-host");
  const proto = request.headers.get("x-forwarded-proto");
  if (host && /^[\w.\-:[\]]+$/.test(host)) {
    return `${proto === "http" ? "http" : "https"}://${host}`;
  }
  return url.origin;
}
