/**
 * The proxy itself: authenticate the client, pick a key, forward, fail over to another key while
 * nothing has reached the client, and relay the answer without buffering.
 * @module
 */
import { type Affinity, createdResources, resourcesInBody } from "../affinity.ts";
import { authenticate } from "../auth.ts";
import { classifyFailure, classifyUpstream, type Verdict } from "../classify.ts";
import type { Config } from "../config.ts";
import { HttpError, retryInfo } from "../errors.ts";
import type { KeyPool } from "../key_pool.ts";
import type { Logger } from "../logger.ts";
import type { PoolSync } from "../pool_sync.ts";
import type { ActiveKey, Registry } from "../registry.ts";
import { clientCredential, upstreamSearch } from "./credentials.ts";
import { clientHeaders, headerBytes, upstreamHeaders } from "./headers.ts";
import { prepareBody, type PreparedBody } from "./request_body.ts";
import { classifyRoute, type ProxyRoute } from "./route.ts";
import { rewriteUploadUrl, UPLOAD_SESSION_TTL_MS } from "./uploads.ts";
import type { RegionalRelay, RelayCaller, RelayReason } from "./regional_relay.ts";
import { finishReasonOf, type TapResult, type Usage, usageOf, usageTap } from "../usage.ts";
import { type LogRecord, requestId } from "../logs/log_record.ts";
import { redact } from "../secrets.ts";
import { deadline } from "../deadlines.ts";
import type { TokenRecord } from "../store/store.ts";
import type { TokenQuota } from "../tokens/token_quota.ts";

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
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Resource-to-key pins. */
  affinity: Affinity;
  /** Proxy tokens' allow-lists and limits. */
  tokens: TokenQuota;
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
/** Largest declared JSON answer read whole; larger ones stream through. */
const MAX_WHOLE_BYTES = 32 * 1024 * 1024;
const textDecoder = new TextDecoder();
/** HTTP methods the Gemini API uses. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Longest request or response body kept in a log record, in characters. */
const LOG_BODY_LIMIT = 8192;
/** Largest upstream error body read to classify it. */
const MAX_ERROR_BYTES = 1024 * 1024;

type Attempt =
  | { kind: "response"; response: Response }
  | { kind: "failed"; verdict: Verdict; error: HttpError };

/**
 * Creates the handler for every Gemini API path.
 * @param deps Injected configuration, state and I/O.
 * @returns A function from a client request to the response relayed from upstream.
 */
export function createProxyHandler(deps: ProxyDeps): (request: Request) => Promise<Response> {
  const { config, registry, pool, poolSync, affinity, logger } = deps;
  const finished = new WeakSet<LogRecord>();

  return async function proxyHandler(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = classifyRoute(url.pathname, url.searchParams);
    if (!route) {
      throw new HttpError(404, `Path "${url.pathname}" is not part of the Gemini API`);
    }
    const ex = newRecord(request, route);
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

  function newRecord(request: Request, route: ProxyRoute): LogRecord {
    const time = deps.now();
    return {
      id: requestId(time),
      time,
      httpMethod: request.method,
      path: route.path,
      tokenId: null,
      tokenName: null,
      model: route.model,
      method: route.method,
      flavour: route.kind === "upload_chunk" ? "upload" : route.kind,
      stream: route.stream,
      status: 0,
      errorClass: null,
      attempts: [],
      keyId: null,
      keyMasked: null,
      ttfbMs: null,
      durationMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      usage: null,
      finishReason: null,
      truncated: false,
      region: deps.regionOf?.(request) ?? config.region ?? null,
      userAgent: request.headers.get("user-agent"),
    };
  }

  /** Completes a record and hands it on, once. */
  function finish(ex: LogRecord, result: Partial<TapResult>): void {
    if (finished.has(ex)) return;
    finished.add(ex);
    ex.durationMs = deps.now() - ex.time;
    ex.bytesOut = result.bytes ?? 0;
    if (result.usage) ex.usage = result.usage;
    if (result.finishReason) ex.finishReason = result.finishReason;
    if (result.midStreamError) ex.errorClass ??= "mid_stream_error";
    if (result.aborted) ex.errorClass ??= "client_cancelled";
    ex.truncated = Boolean(
      result.midStreamError || result.aborted ||
        (ex.stream && ex.status < 400 && result.finishReason === null),
    );
    try {
      deps.onFinish?.(ex);
    } catch (error) {
      logger.log("warn", "log hook failed", { error });
    }
  }

  function clip(text: string): string {
    const bounded = text.length > LOG_BODY_LIMIT
      ? text.slice(0, LOG_BODY_LIMIT) + `... [${text.length - LOG_BODY_LIMIT} more characters]`
      : text;
    return redact(bounded, registry.secrets);
  }

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
    registry.touch();

    const credential = clientCredential(request.headers, url.searchParams);
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

    if (route.kind === "live") {
      if (token) await deps.tokens.admit(token, { model: null, kind: route.kind });
      const response = relayLive(request, url, route, ex);
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
    const model = route.model ?? modelOf(body.json);
    ex.model = model;
    ex.bytesIn = body.bytes();
    if ((body.json as { stream?: unknown } | undefined)?.stream === true) ex.stream = true;
    if (config.logBodies === "all" && body.text) ex.requestBody = clip(body.text);
    if (token) await deps.tokens.admit(token, { model, kind: route.kind });
    pinned ??= await pinnedByResources(route, body);
    if (relayed) await relayed.checkBody(body.body instanceof Uint8Array ? body.body : null);
    if (deps.relay?.blocked(ex.region)) {
      const answer = await relayOut(request, url, route, body, ex, token, "blocked_colo");
      if (answer) return answer;
    }

    const target = config.upstreamUrl + route.path + upstreamSearch(url.search);
    const tried = new Set<string>();
    let last: Attempt | null = null;
    for (let attempt = 1; attempt <= config.maxAttempts; attempt++) {
      const key = pinned?.key ?? await nextKey(model, tried, last);
      if (!key) break;
      tried.add(key.id);
      poolSync.countUse(key, model);
      const started = deps.now();
      last = await send(request, route, target, key, body);
      ex.keyId = key.id;
      ex.keyMasked = key.record.masked;
      const attemptRecord = {
        keyId: key.id,
        keyMasked: key.record.masked,
        status: last.kind === "response" ? last.response.status : 0,
        errorClass: last.kind === "failed" ? last.verdict.errorClass : null,
        durationMs: deps.now() - started,
      };
      ex.attempts.push(attemptRecord);
      if (last.kind === "response") {
        const { response } = last;
        ex.ttfbMs = deps.now() - ex.time;
        if (response.status < 400) {
          poolSync.noteSuccess(key);
          ex.status = response.status;
          return relay(request, url, route, key, response, model, ex, token);
        }
        // Google does not echo keys in errors; masking the one used makes sure of it.
        const text = redact(await readBounded(response), [key.value]);
        const verdict = classifyUpstream(response.status, text, {
          now: deps.now(),
          defaultCooldownMs: config.defaultCooldownMs,
        });
        attemptRecord.errorClass = verdict.errorClass;
        poolSync.noteError(key, model, response.status, verdict);
        last = { kind: "response", response: rebuild(response, text) };
        if (verdict.errorClass === "location") {
          const answer = await relayOut(request, url, route, body, ex, token, "location");
          if (answer) return answer;
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
        if (request.signal.aborted) throw last.error;
        poolSync.noteError(key, model, last.error.code, last.verdict);
        if (!body.replayable || pinned) throw last.error;
        await deps.sleep(config.retryBackoffMs * attempt);
      }
    }
    if (last === null) throw exhausted(model);
    if (last.kind === "failed") throw last.error;
    const lastClass = ex.attempts.at(-1)?.errorClass ?? null;
    // Every attempt ended in a key-related error: when no key is left for the model, say when
    // one frees up rather than relaying one key's 429.
    if (last.response.status === 429 && pool.pick(model).key === null) {
      await last.response.body?.cancel();
      ex.errorClass = lastClass;
      throw exhausted(model);
    }
    const text = await last.response.text();
    return finishError(ex, rebuild(last.response, text), text, lastClass);
  }

  function noteToken(ex: LogRecord, token: { id: string; name: string }): void {
    ex.tokenId = token.id;
    ex.tokenName = token.name;
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
    let pick = pool.pick(model, tried);
    if (pick.key) return pick.key;
    if (last !== null) return null;
    if (registry.keys.length === 0) {
      throw new HttpError(
        503,
        "No Gemini API key is configured: set GEMINI_API_KEYS or add keys in the admin console",
      );
    }
    if (registry.enabledKeys.length === 0) {
      throw new HttpError(503, "No Gemini API key is available: every key is disabled");
    }
    const wait = pick.earliest === null ? Infinity : pick.earliest - deps.now();
    if (wait > 0 && wait <= config.waitWhenExhaustedMs) {
      await deps.sleep(wait);
      pick = pool.pick(model, tried);
      if (pick.key) return pick.key;
    }
    throw exhausted(model);
  }

  function exhausted(model: string | null): HttpError {
    const { earliest } = pool.pick(model);
    const seconds = earliest ? Math.max(1, Math.ceil((earliest - deps.now()) / 1000)) : 60;
    return new HttpError(
      429,
      `Every Gemini API key is resting for ${
        model ? `model "${model}"` : "this request"
      }: retry in ${seconds}s`,
      {
        reason: "ALL_KEYS_COOLING",
        details: [retryInfo(seconds)],
        headers: { "retry-after": String(seconds) },
      },
    );
  }

  async function send(
    request: Request,
    route: ProxyRoute,
    target: string,
    key: ActiveKey,
    body: PreparedBody,
  ): Promise<Attempt> {
    const headers = upstreamHeaders(request.headers, {
      apiKey: key.value,
      bearer: route.kind === "openai",
      cfAigToken: config.cfAigToken,
    });
    // Linked to the client only until headers arrive: after that, relaying the body cancels the
    // upstream read when the client goes away.
    const abort = new AbortController();
    const onClientAbort = () => abort.abort(new HttpError(499, "Client closed the request"));
    request.signal.addEventListener("abort", onClientAbort, { once: true });
    const cancelDeadline = deadline(config.upstreamTimeoutMs, () =>
      abort.abort(
        new HttpError(504, `Upstream did not answer within ${config.upstreamTimeoutMs} ms`),
      ));
    try {
      const response = await deps.fetch(target, {
        method: request.method,
        headers,
        body: body.body,
        redirect: "manual",
        signal: abort.signal,
        // @ts-ignore: `duplex` is required by fetch for streamed request bodies but missing from lib.dom.
        duplex: "half",
      });
      return { kind: "response", response };
    } catch (cause) {
      if (body.exceeded()) {
        throw new HttpError(413, `Request body exceeds ${config.maxBodyBytes} bytes`, { cause });
      }
      const reason = abort.signal.reason;
      if (reason instanceof HttpError) {
        return { kind: "failed", verdict: classifyFailure(reason.code === 504), error: reason };
      }
      return {
        kind: "failed",
        verdict: classifyFailure(false),
        error: new HttpError(502, "Upstream is unreachable", { cause }),
      };
    } finally {
      cancelDeadline();
      request.signal.removeEventListener("abort", onClientAbort);
    }
  }

  async function relay(
    request: Request,
    url: URL,
    route: ProxyRoute,
    key: ActiveKey,
    upstream: Response,
    model: string | null,
    ex: LogRecord,
    token: TokenRecord | null,
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
    return respond(ex, route, upstream, headers, (usage) => {
      if (usage) poolSync.addTokens(key, model, usage.total);
      if (token) deps.tokens.charge(token, usage);
    });
  }

  /**
   * Sends a successful upstream answer on. A whole JSON answer is read at once (the runtime's
   * fastest path; upstream sends it in one go anyway); streams flow through the usage tap chunk
   * by chunk. Either way the log record is completed when the last byte has passed.
   */
  async function respond(
    ex: LogRecord,
    route: ProxyRoute,
    response: Response,
    headers: Headers,
    onUsage: (usage: Usage | null) => void,
  ): Promise<Response> {
    const type = headers.get("content-type") ?? "";
    if (type.includes("event-stream")) ex.stream = true;
    const flavour = route.kind === "openai" ? "openai" : "native";
    if (!response.body) {
      finish(ex, {});
      return new Response(null, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    }
    const length = Number(headers.get("content-length") ?? "0");
    if (type.includes("json") && !ex.stream && !route.stream && length <= MAX_WHOLE_BYTES) {
      let bytes: Uint8Array;
      try {
        bytes = await response.bytes();
      } catch (cause) {
        throw new HttpError(502, "Upstream closed the connection before its answer was complete", {
          cause,
        });
      }
      const text = textDecoder.decode(bytes);
      const usage = usageOf(text, flavour);
      onUsage(usage);
      if (config.logBodies === "all") ex.responseBody = clip(text);
      finish(ex, {
        bytes: bytes.byteLength,
        usage,
        finishReason: finishReasonOf(text, flavour),
        midStreamError: false,
        aborted: false,
      });
      return new Response(bytes as Uint8Array<ArrayBuffer>, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    }
    const tap = usageTap(flavour, (result) => {
      onUsage(result.usage);
      if (result.captured !== null) ex.responseBody = clip(result.captured);
      finish(ex, result);
    }, {
      scan: type.includes("json") || type.includes("event-stream"),
      capture: config.logBodies === "all" ? LOG_BODY_LIMIT : 0,
    });
    return new Response(response.body.pipeThrough(tap), {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }

  /** Regional failover: sends the request once to a fallback deployment and relays its answer. */
  async function relayOut(
    request: Request,
    url: URL,
    route: ProxyRoute,
    body: PreparedBody,
    ex: LogRecord,
    token: TokenRecord | null,
    reason: RelayReason,
  ): Promise<Response | null> {
    // An upload session lives with the deployment (and key) that started it: chunks stay here.
    if (route.kind === "upload_chunk" || ex.relayedTo !== undefined) return null;
    if (!deps.relay?.mayRelay(request, body.replayable)) return null;
    const answer = await deps.relay.forward(request, {
      path: route.path,
      search: upstreamSearch(url.search),
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
      const { errorClass } = classifyUpstream(response.status, text, { now: deps.now() });
      return finishError(ex, rebuild(response, text), text, errorClass);
    }
    ex.status = response.status;
    const headers = clientHeaders(response.headers);
    return respond(ex, route, response, headers, (usage) => {
      if (token) deps.tokens.charge(token, usage);
    });
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
    if (!key || !key.record.enabled) {
      throw new HttpError(
        400,
        `${label} belongs to a Gemini API key that is ${key ? "disabled" : "no longer configured"}`,
        { status: "FAILED_PRECONDITION", reason: "RESOURCE_KEY_UNAVAILABLE" },
      );
    }
    return { key, resource };
  }

  function relayLive(request: Request, url: URL, route: ProxyRoute, ex: LogRecord): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(400, "The Live API needs a WebSocket upgrade request");
    }
    if (!deps.liveBridge) {
      throw new HttpError(501, "This deployment cannot relay WebSockets");
    }
    const key = pool.pick(route.model).key;
    if (!key) throw exhausted(route.model);
    poolSync.countUse(key, route.model);
    ex.keyId = key.id;
    ex.keyMasked = key.record.masked;
    const params = new URLSearchParams(url.search);
    params.set("key", key.value);
    const wsBase = config.upstreamUrl.replace(/^http/, "ws");
    return deps.liveBridge(request, `${wsBase}${route.path}?${params}`);
  }
}

/** The model named in an OpenAI-style body, without the `models/` prefix. */
function modelOf(json: unknown): string | null {
  const model = (json as { model?: unknown } | undefined)?.model;
  return typeof model === "string" ? model.replace(/^models\//, "") : null;
}

/** Reads an error body up to a bound; the rest is dropped. */
async function readBounded(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total > MAX_ERROR_BYTES) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // A body cut short still tells what it can.
  }
  return new TextDecoder().decode(concat(chunks, total));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk.subarray(0, Math.min(chunk.byteLength, total - offset)), offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The response again, with its body already read as text. */
function rebuild(response: Response, text: string): Response {
  return new Response(text, {
    status: response.status,
    statusText: response.statusText,
    headers: clientHeaders(response.headers),
  });
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

/** The error class of an answer the proxy gave itself. */
function proxyErrorClass(error: HttpError): string {
  const reason = error.details.find((d) => d["@type"].endsWith("ErrorInfo"))?.reason;
  if (reason === "ALL_KEYS_COOLING") return "keys_exhausted";
  if (typeof reason === "string" && reason.startsWith("PROXY_TOKEN")) return "auth";
  if (typeof reason === "string" && reason.startsWith("TOKEN_")) return "token_quota";
  if (error.code === 413 || error.code === 431) return "too_large";
  if (error.code === 499) return "client_cancelled";
  if (error.code === 504) return "timeout";
  if (error.code === 502) return "network";
  if (error.code === 503) return "no_keys";
  if (error.code === 401 || error.code === 403) return "auth";
  return error.code >= 500 ? "internal" : "client_error";
}
