/**
 * The proxy itself: authenticate the client, pick a key, forward, fail over to another key while
 * nothing has reached the client, and relay the answer without buffering.
 * @module
 */
import { type Affinity, createdResources, resourcesInBody } from "../affinity.ts";
import { authenticate } from "../auth.ts";
import { classifyUpstream, isKeyVerdict, type Verdict } from "../classify.ts";
import type { Config } from "../config.ts";
import { timeBudget } from "../deadlines.ts";
import { HttpError } from "../errors.ts";
import type { KeyPool, Pick } from "../key_pool.ts";
import type { Logger } from "../logger.ts";
import type { ModelBook } from "../model_book.ts";
import type { PoolSync } from "../pool_sync.ts";
import type { ActiveKey, Registry } from "../registry.ts";
import { clientCredential, upstreamSearch } from "./credentials.ts";
import { clientHeaders, headerBytes } from "./headers.ts";
import { bodyModel } from "./model_id.ts";
import { checkPath, readQuery } from "./request_url.ts";
import { prepareBody, type PreparedBody } from "./request_body.ts";
import { askForUsage } from "./include_usage.ts";
import { classifyRoute, type ProxyRoute } from "./route.ts";
import { rewriteUploadUrl, UPLOAD_SESSION_TTL_MS } from "./uploads.ts";
import type { RegionalRelay, RelayCaller, RelayReason } from "./regional_relay.ts";
import type { LogRecord } from "../logs/log_record.ts";
import { redact } from "../secrets.ts";
import { type Attempt, callUpstream, readBounded, rebuild } from "./upstream_call.ts";
import { createRequestLog, noteToken, proxyErrorClass } from "./request_log.ts";
import { respond } from "./respond.ts";
import { refuseCredentialMinting } from "./refused_routes.ts";
import { noUsableKey } from "./no_usable_key.ts";
import type { TokenRecord } from "../store/store.ts";
import type { TokenQuota } from "../tokens/token_quota.ts";
import type { CompiledPrices } from "../cost/prices.ts";
import type { KeyCaps } from "../limits/key_caps.ts";
import { createTokenAccounting } from "./token_accounting.ts";

/** Relays a Live API WebSocket: given the client's upgrade request and the upstream URL. */
export type LiveBridge = (request: Request, upstreamUrl: string) => Response;

/** Everything the proxy handler needs, injected. */
export interface ProxyDeps {
  /** Validated configuration. */
  config: Config;
  /** In-memory keys and tokens. */
  registry: Registry;
  /** Rotation state. */
  pool: KeyPool;
  /** Models upstream has confirmed: they alone get per-model state. */
  models: ModelBook;
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Resource-to-key pins. */
  affinity: Affinity;
  /** Proxy tokens' allow-lists and limits. */
  tokens: TokenQuota;
  /** Keys' proactive caps. */
  caps: KeyCaps;
  /** The current model prices (costs of records, budget reservations). */
  prices: () => CompiledPrices;
  /** The fetch used for upstream calls. */
  fetch: typeof fetch;
  /** Clock (epoch ms). */
  now: () => number;
  /** Waits (backoff, waiting for a key to free up). */
  sleep: (ms: number) => Promise<void>;
  /** Logger. */
  logger: Logger;
  /** Platform WebSocket relay, when the platform has one. */
  liveBridge?: LiveBridge | undefined;
  /** The region serving one request (Cloudflare's colo), when the platform tells per request. */
  regionOf?: ((request: Request) => string | null | undefined) | undefined;
  /** Regional failover to other deployments (`FALLBACK_PROXY_URLS`). */
  relay?: RegionalRelay | undefined;
  /** Receives every request's log record once the response has ended. */
  onFinish?: (record: LogRecord) => void;
}

/** POST methods whose answer names a resource owned by the key's project. */
const CREATING = new Set(["batchGenerateContent", "predictLongRunning", "asyncBatchEmbedContent"]);
/** HTTP methods the Gemini API uses. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Creates the handler for every Gemini API path.
 * @param deps Injected configuration, state and I/O.
 * @returns A function from a client request to the response relayed from upstream.
 */
export function createProxyHandler(
  deps: ProxyDeps,
): (request: Request, client?: string | null) => Promise<Response> {
  const { config, registry, pool, poolSync, affinity, logger } = deps;
  // Each admitted request's token is charged, and every record gets its cost, when it finishes.
  const accounting = createTokenAccounting(deps.tokens, deps.prices);
  const log = createRequestLog({
    config,
    registry,
    now: deps.now,
    logger,
    regionOf: deps.regionOf,
    onFinish(record) {
      accounting.account(record);
      deps.onFinish?.(record);
    },
  });
  const { finish, clip } = log;

  return async function proxyHandler(
    request: Request,
    client?: string | null,
  ): Promise<Response> {
    const url = new URL(request.url);
    checkPath(url.pathname);
    const route = classifyRoute(url.pathname, readQuery(url.search));
    if (!route) {
      throw new HttpError(404, `Path "${url.pathname}" is not part of the Gemini API`);
    }
    const ex = log.begin(request, route, client);
    try {
      const response = await handle(request, url, route, ex);
      setHeader(response, "x-request-id", ex.id);
      return response;
    } catch (error) {
      const httpError = error instanceof HttpError
        ? error
        : new HttpError(500, "Internal proxy error", { cause: error });
      if (httpError.code >= 500) {
        logger.log("error", httpError.message, {
          path: route.path,
          error: httpError.cause ?? error,
        });
      }
      ex.status = httpError.code;
      ex.errorClass ??= proxyErrorClass(httpError);
      const response = httpError.toResponse();
      if (config.logBodies !== "none") ex.responseBody = clip(JSON.stringify(httpError.toJSON()));
      finish(ex, { bytes: JSON.stringify(httpError.toJSON(), null, 2).length });
      setHeader(response, "x-request-id", ex.id);
      return response;
    }
  };

  async function handle(
    request: Request,
    url: URL,
    route: ProxyRoute,
    ex: LogRecord,
  ): Promise<Response> {
    if (!METHODS.has(request.method)) {
      throw new HttpError(405, `Method "${request.method}" is not supported`, {
        headers: { allow: [...METHODS].join(", ") },
      });
    }
    if (/%2f|%5c|%2e%2e|\\/i.test(request.url.slice(url.origin.length).split("?")[0] ?? "")) {
      throw new HttpError(
        400,
        "Encoded slashes, backslashes and dot segments are not allowed in paths",
      );
    }
    if (headerBytes(request.headers) > config.maxHeaderBytes) {
      throw new HttpError(431, `Request headers exceed ${config.maxHeaderBytes} bytes`);
    }
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > config.maxBodyBytes) {
      throw new HttpError(413, `Request body of ${declared} bytes exceeds ${config.maxBodyBytes}`);
    }
    // Judged against a snapshot at most a second old: revoked and new tokens, changed keys.
    await registry.ensureFresh();

    const credential = clientCredential(request.headers, route.query);
    let pinned: { key: ActiveKey; resource: string } | null = null;
    let token: TokenRecord | null = null;
    let relayed: RelayCaller | null = null;
    if (route.kind === "upload_chunk" && route.uploadId) {
      // The upload id is upstream's credential for the session; the proxy only serves sessions it
      // started for an authenticated client.
      const resource = `upload:${route.uploadId}`;
      pinned = await pinnedKey(resource, `Upload session "${route.uploadId}"`, true);
      if (credential) noteToken(ex, token = await authenticate(registry, credential, deps.now()));
    } else if (!(relayed = await deps.relay?.accept(request, route.path, url.search) ?? null)) {
      noteToken(ex, token = await authenticate(registry, credential, deps.now()));
    } else {
      ex.relayedFrom = relayed.from;
    }
    refuseCredentialMinting(route);

    if (route.kind === "live") {
      if (token) await accounting.admit(token, ex, route, { bytes: 0 });
      const response = await relayLive(request, route, ex);
      ex.status = 101;
      finish(ex, {});
      return response;
    }

    const body = await prepareBody(request, {
      maxBodyBytes: config.maxBodyBytes,
      // A relay's body is signed: it is read whole to be checked before anything is sent.
      maxBufferedBytes: relayed ? config.maxBodyBytes : config.maxBufferedBytes,
      bodyTimeoutMs: config.bodyTimeoutMs,
      requireJson: route.kind === "openai" && request.method === "POST" &&
        !(request.headers.get("content-type") ?? "").startsWith("multipart/"),
    });
    const model = route.model ?? bodyModel(body.json, route.kind);
    ex.model = model;
    ex.bytesIn = body.bytes();
    if ((body.json as { stream?: unknown } | undefined)?.stream === true) ex.stream = true;
    if (config.logBodies === "all" && body.text) ex.requestBody = clip(body.text);
    if (token) {
      const bytes = body.replayable ? body.bytes() : declared || config.maxBodyBytes;
      await accounting.admit(token, ex, route, { bytes, json: body.json, text: body.text });
    }
    pinned ??= await pinnedByResources(route, body);
    if (relayed) await relayed.checkBody(body.body instanceof Uint8Array ? body.body : null);
    // Every stream is charged: OpenAI streams ask upstream for usage even when the client did not.
    route.hideUsage = askForUsage(route, request.method, body);
    if (deps.relay?.blocked(ex.region)) {
      const answer = await relayOut(request, route, body, ex, "blocked_colo");
      if (answer) return answer;
    }

    const target = config.upstreamUrl + route.path + upstreamSearch(route.query);
    const tried = new Set<string>();
    /** Keys that failed transiently before another answered (their health streaks). */
    const transient: Array<{ key: ActiveKey; status: number; verdict: Verdict }> = [];
    let last: Attempt | null = null;
    let lastVerdict: Verdict | null = null;
    // One wait for headers per request, shared by every key tried: a platform whose gateway
    // gives up on a silent request (Supabase: 150 s) still gets the proxy's own 504 first.
    let headersLeft: (() => number) | null = null;
    for (let attempt = 1; attempt <= config.maxAttempts; attempt++) {
      if (headersLeft && headersLeft() <= 0) break;
      const key = pinned?.key ?? await nextKey(model, tried, last);
      if (!key) break;
      if (pinned) deps.caps.force(key, model);
      tried.add(key.id);
      poolSync.countUse(key, model);
      const started = deps.now();
      headersLeft ??= timeBudget(config.upstreamTimeoutMs);
      last = await callUpstream(request, route, target, key, body, {
        config,
        fetch: deps.fetch,
        timeoutMs: headersLeft(),
      });
      ex.keyId = key.id;
      ex.keyMasked = key.record.masked;
      const attemptRecord = {
        keyId: key.id,
        keyMasked: key.record.masked,
        status: last.kind === "response" ? last.response.status : 0,
        errorClass: last.kind === "failed" ? last.verdict.errorClass : null,
        durationMs: deps.now() - started,
        startMs: started - ex.time,
      };
      ex.attempts.push(attemptRecord);
      if (last.kind === "response") {
        const { response } = last;
        ex.ttfbMs = deps.now() - ex.time;
        if (response.status < 400) {
          if (model !== null && response.ok) deps.models.confirm(model);
          poolSync.noteSuccess(key, transient);
          ex.status = response.status;
          return relay(request, url, route, key, response, model, ex);
        }
        // Google does not echo keys in errors; masking the one used makes sure of it.
        const text = redact(await readBounded(response), [key.value]);
        const verdict = classifyUpstream(response.status, text, {
          now: deps.now(),
          defaultCooldownMs: config.defaultCooldownMs,
        });
        attemptRecord.errorClass = verdict.errorClass;
        poolSync.noteError(key, model, response.status, verdict);
        if (verdict.action === "retry") transient.push({ key, status: response.status, verdict });
        last = { kind: "response", response: rebuild(response, text) };
        lastVerdict = verdict;
        if (verdict.errorClass === "location") {
          const answer = await relayOut(request, route, body, ex, "location");
          if (answer) return answer;
        }
        if (verdict.action === "disable" && (!body.replayable || pinned)) {
          ex.errorClass = verdict.errorClass;
          throw pinned
            ? resourceKeyUnavailable(`Resource "${pinned.resource}"`, true)
            : noKey(model);
        }
        if (verdict.action === "pass" || !body.replayable || pinned) {
          return finishError(ex, last.response, text, verdict.errorClass);
        }
        logger.log("info", "failing over", {
          key: key.record.masked,
          status: response.status,
          errorClass: verdict.errorClass,
          attempt,
        });
        if (verdict.action === "retry") await deps.sleep(config.retryBackoffMs * attempt);
      } else {
        ex.errorClass = last.verdict.errorClass;
        lastVerdict = last.verdict;
        if (request.signal.aborted) throw last.error;
        transient.push({ key, status: 0, verdict: last.verdict });
        if (!body.replayable || pinned) throw last.error;
        await deps.sleep(config.retryBackoffMs * attempt);
      }
    }
    if (last === null) throw noKey(model);
    if (last.kind === "failed") throw last.error;
    const lastClass = ex.attempts.at(-1)?.errorClass ?? null;
    // The last key was retired, or none is left for the model: the pool answers, in its own
    // words (Google's key-invalid text would read as a bad proxy token to an SDK).
    if (
      lastVerdict && isKeyVerdict(lastVerdict) &&
      (lastVerdict.action === "disable" || pool.pick(model).key === null)
    ) {
      await last.response.body?.cancel();
      ex.errorClass = lastClass;
      throw noKey(model);
    }
    const text = await last.response.text();
    return finishError(ex, rebuild(last.response, text), text, lastClass);
  }

  /** Logs an upstream error answered to the client; its body is already read. */
  function finishError(
    ex: LogRecord,
    response: Response,
    text: string,
    errorClass: string | null,
  ): Response {
    ex.status = response.status;
    ex.errorClass = errorClass;
    if (config.logBodies !== "none") {
      ex.responseBody = clip(text);
      if (ex.requestBody === undefined && ex.bytesIn > 0) ex.requestBody = "(body not kept)";
    }
    finish(ex, { bytes: new TextEncoder().encode(text).byteLength });
    return response;
  }

  /** The next key to try, waiting for one to free up when configured to. */
  async function nextKey(
    model: string | null,
    tried: ReadonlySet<string>,
    last: Attempt | null,
  ): Promise<ActiveKey | null> {
    let pick = await pickWithin(model, tried);
    if (pick.key) return pick.key;
    if (last !== null) return null;
    if (registry.enabledKeys.length === 0) throw noKey(model);
    const wait = pick.earliest === null ? Infinity : pick.earliest - deps.now();
    if (wait > 0 && wait <= config.waitWhenExhaustedMs) {
      await deps.sleep(wait);
      pick = await pickWithin(model, tried);
      if (pick.key) return pick.key;
    }
    throw noKey(model);
  }

  /** Picks a key and counts the request against its caps; a key found capped is passed over. */
  async function pickWithin(model: string | null, tried: ReadonlySet<string>): Promise<Pick> {
    let skip = tried;
    for (;;) {
      const pick = pool.pick(model, skip);
      if (!pick.key || await deps.caps.take(pick.key, model)) return pick;
      skip = new Set([...skip, pick.key.id]);
    }
  }

  /** The pool's answer when no key can serve the model (503 or 429, see `noUsableKey`). */
  function noKey(model: string | null): HttpError {
    return noUsableKey(model, { registry, pool, now: deps.now() });
  }

  async function relay(
    request: Request,
    url: URL,
    route: ProxyRoute,
    key: ActiveKey,
    upstream: Response,
    model: string | null,
    ex: LogRecord,
  ): Promise<Response> {
    const headers = clientHeaders(upstream.headers);
    if (route.kind === "upload" || route.kind === "upload_chunk") {
      const uploadId = await rewriteUploadUrl(headers, {
        upstreamUrl: config.upstreamUrl,
        publicOrigin: config.publicUrl ?? publicOrigin(request, url),
      });
      if (uploadId) await affinity.remember(`upload:${uploadId}`, key.id, UPLOAD_SESSION_TTL_MS);
    }
    const creates = request.method === "POST" && route.kind !== "openai" && (
      headers.get("x-goog-upload-status") === "final" ||
      (route.kind === "upload" && headers.get("x-goog-upload-status") === null) ||
      CREATING.has(route.method) ||
      /\/(cachedContents|tunedModels|corpora)$/.test(route.path)
    );
    if (creates && upstream.ok) {
      const text = await upstream.text();
      try {
        for (const name of createdResources(JSON.parse(text))) {
          await affinity.remember(name, key.id);
        }
      } catch {
        // Not JSON: nothing to pin; the body is relayed as it came.
      }
      if (config.logBodies === "all") ex.responseBody = clip(text);
      finish(ex, { bytes: new TextEncoder().encode(text).byteLength, usage: null });
      return new Response(text, { status: upstream.status, headers });
    }
    if (logger.enabled("debug")) {
      logger.log("debug", "proxied", {
        method: request.method,
        path: route.path,
        status: upstream.status,
        key: key.record.masked,
      });
    }
    // The token is charged when the record is finished (see `account`).
    return respond(log, config.logBodies, ex, route, upstream, headers, (usage) => {
      if (usage) poolSync.addTokens(key, model, usage.total);
    });
  }

  /** Regional failover: sends the request once to a fallback deployment and relays its answer. */
  async function relayOut(
    request: Request,
    route: ProxyRoute,
    body: PreparedBody,
    ex: LogRecord,
    reason: RelayReason,
  ): Promise<Response | null> {
    // An upload session lives with the deployment (and key) that started it: chunks stay here.
    if (route.kind === "upload_chunk" || ex.relayedTo !== undefined) return null;
    if (!deps.relay?.mayRelay(request, body.replayable)) return null;
    const answer = await deps.relay.forward(request, {
      path: route.path,
      search: upstreamSearch(route.query),
      body: body.body instanceof Uint8Array ? body.body : null,
      region: ex.region,
      reason,
    });
    ex.relayedTo = answer?.target ?? null;
    ex.relayReason = reason;
    if (!answer) return null;
    const { response } = answer;
    ex.ttfbMs = deps.now() - ex.time;
    ex.keyId = ex.keyMasked = null;
    if (response.status >= 400) {
      const text = await readBounded(response);
      const errorClass = answer.refused
        ? "relay_rejected"
        : classifyUpstream(response.status, text, { now: deps.now() }).errorClass;
      return finishError(ex, rebuild(response, text), text, errorClass);
    }
    ex.status = response.status;
    const headers = clientHeaders(response.headers);
    return respond(log, config.logBodies, ex, route, response, headers, () => {});
  }

  async function pinnedByResources(
    route: ProxyRoute,
    body: PreparedBody,
  ): Promise<{ key: ActiveKey; resource: string } | null> {
    const names = [...route.resources];
    if (body.text) names.push(...resourcesInBody(body.text));
    for (const name of names) {
      const found = await pinnedKey(name, `Resource "${name}"`, false);
      if (found) return found;
    }
    return null;
  }

  async function pinnedKey(
    resource: string,
    label: string,
    required: boolean,
  ): Promise<{ key: ActiveKey; resource: string } | null> {
    const owner = await affinity.lookup(resource);
    if (owner === null) {
      if (required) throw new HttpError(404, `${label} is unknown or expired`);
      return null;
    }
    const key = registry.keyById(owner);
    if (!key || !key.record.enabled) throw resourceKeyUnavailable(label, key !== undefined);
    return { key, resource };
  }

  async function relayLive(request: Request, route: ProxyRoute, ex: LogRecord): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(400, "The Live API needs a WebSocket upgrade request");
    }
    if (!deps.liveBridge) {
      throw new HttpError(501, "This deployment cannot relay WebSockets");
    }
    const key = (await pickWithin(route.model, new Set())).key;
    if (!key) throw noKey(route.model);
    poolSync.countUse(key, route.model);
    ex.keyId = key.id;
    ex.keyMasked = key.record.masked;
    const search = upstreamSearch(route.query);
    const keyParam = `key=${encodeURIComponent(key.value)}`;
    const wsBase = config.upstreamUrl.replace(/^http/, "ws");
    return deps.liveBridge(
      request,
      `${wsBase}${route.path}${search ? `${search}&` : "?"}${keyParam}`,
    );
  }
}

/** A resource pinned to a key that can no longer serve it. */
function resourceKeyUnavailable(label: string, disabled: boolean): HttpError {
  return new HttpError(
    400,
    `${label} belongs to a Gemini API key that is ${
      disabled ? "disabled" : "no longer configured"
    }`,
    { status: "FAILED_PRECONDITION", reason: "RESOURCE_KEY_UNAVAILABLE" },
  );
}

function publicOrigin(request: Request, url: URL): string {
  const host = request.headers.get("x-forwarded-host");
  const proto = request.headers.get("x-forwarded-proto");
  if (host && /^[\w.\-:[\]]+$/.test(host)) {
    return `${proto === "http" ? "http" : "https"}://${host}`;
  }
  return url.origin;
}

/** Sets a header on a response whose headers may be immutable (a WebSocket upgrade). */
function setHeader(response: Response, name: string, value: string): void {
  try {
    response.headers.set(name, value);
  } catch {
    // Immutable headers: the id is still in the log.
  }
}
