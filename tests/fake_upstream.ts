/**
 * A fake of Google's Gemini API (generativelanguage.googleapis.com) for tests.
 *
 * It speaks the same wire format as the real service closely enough that the official SDKs
 * (`@google/genai`, the OpenAI SDK on `/v1beta/openai/`) work against it unchanged, records every
 * request it sees, and can be told to fail in the ways Google fails. Replies are deterministic
 * (an echo of the last user text) so tests can predict bodies and token counts.
 *
 * Every endpoint answers on v1, v1beta and v1alpha: @google/genai 3.x talks v1 by default, files,
 * caches and the Live socket included.
 *
 * @example
 * ```ts
 * const fake = await startFakeUpstream();
 * fake.failFor("AIzaFAKE-TEST-key-1", { kind: "quota", scope: "minute" }, { times: 1 });
 * // ... point the proxy at fake.url, run requests, inspect fake.requests ...
 * await fake.close();
 * ```
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

/** Options for {@linkcode startFakeUpstream}. */
export interface FakeUpstreamOptions {
  /** fixed delay before every response's headers, ms (default 0) */
  delayMs?: number;
  /** gzip JSON/SSE responses when the request's accept-encoding includes gzip, like Google (default true) */
  gzip?: boolean;
  /** number of SSE chunks streamGenerateContent sends (default 3) */
  streamChunks?: number;
  /** pause between two streamed chunks, ms (default 0: one timer tick, so chunks are separate writes) */
  chunkDelayMs?: number;
}

/** One request as the fake received it, plus what it answered. */
export interface RecordedRequest {
  method: string;
  /** URL pathname as received (a `//ws/...` path is kept as is) */
  path: string;
  /** raw query string including "?" or "" */
  search: string;
  /** request headers, lower-case names */
  headers: Record<string, string>;
  /** credential seen: x-goog-api-key header, else ?key=, else Authorization Bearer value */
  key: string | null;
  /** bytes of request body received, counted while streaming */
  bodyBytes: number;
  /** request body text when <= 1 MiB, else null */
  body: string | null;
  responseStatus: number;
  /** the uncompressed body sent, filled in once fully written (for a WebSocket: the frames sent, one a line) */
  responseBody: string;
  /** resolves when the response body has been fully written or the client cancelled */
  done: Promise<void>;
  /** true if the client aborted mid-response */
  cancelled: boolean;
}

/**
 * A way the fake can be told to fail, shaped like Google's real errors.
 *
 * - `invalid_key`: 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID.
 * - `permission_denied`: 403; `reason` picks the API-disabled, key-restricted or leaked-key
 *   variant, none gives the plain "caller does not have permission" one.
 * - `quota`: 429 RESOURCE_EXHAUSTED with Help, QuotaFailure (free-tier quota id for `scope`, the
 *   requested model in quotaDimensions, or `quotaModel`, as Google names the model behind an alias
 *   or version) and RetryInfo; `legacy` gives the old detail-less form.
 * - `status`: 500 INTERNAL, 503 UNAVAILABLE (model overloaded) or 504 DEADLINE_EXCEEDED.
 * - `bad_request`: 400 INVALID_ARGUMENT blaming the payload (BadRequest detail, no ErrorInfo).
 * - `location`: 400 FAILED_PRECONDITION for an unsupported user location.
 * - `cut_stream`: streams only; send `afterChunks` chunks, then append a bare pretty-printed
 *   error object (`error`) or simply end without the finishing chunk.
 * - `slow_first_byte`: wait `ms` before the headers, then answer normally.
 */
export type Failure =
  | { kind: "invalid_key" }
  | {
    kind: "permission_denied";
    reason?: "SERVICE_DISABLED" | "API_KEY_SERVICE_BLOCKED" | "LEAKED";
  }
  | {
    kind: "quota";
    scope: "minute" | "day" | "tokens_minute";
    retryDelaySeconds?: number;
    legacy?: boolean;
    quotaModel?: string;
  }
  | { kind: "status"; code: 500 | 503 | 504 }
  | { kind: "bad_request" }
  | { kind: "location" }
  | { kind: "cut_stream"; afterChunks: number; error?: 429 | 503 }
  | { kind: "slow_first_byte"; ms: number };

/** Handle on a running fake upstream. */
export interface FakeUpstream {
  /** base URL, "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  /** every HTTP request (WebSocket upgrades too), in arrival order */
  requests: RecordedRequest[];
  /**
   * Make requests carrying `key` fail. `model` limits it to one model id ("gemini-2.5-flash");
   * `times` is how many requests fail (default: forever).
   */
  failFor(key: string, failure: Failure, opts?: { model?: string; times?: number }): void;
  /** make every request (any key) fail as given */
  failAll(failure: Failure, opts?: { model?: string; times?: number }): void;
  /**
   * Hold every stream before it sends chunk `index` (0-based) until `release()` is called.
   * `reached` resolves when a stream first waits there.
   */
  holdStreamChunk(index: number): { reached: Promise<void>; release(): void };
  /** the keys this fake accepts; when non-empty, any other key gets invalid_key */
  validKeys: Set<string>;
  /** clear requests, failures, holds, valid keys and stored files/caches/batches */
  reset(): void;
  /** release holds, close WebSockets and stop the server */
  close(): Promise<void>;
}

/** Model ids the fake serves; any other `models/{id}` gets Google's 404. */
export const FAKE_MODEL_IDS: readonly string[] = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-lite",
  "gemini-2.0-flash",
  "gemini-2.0-flash-live-001",
  "gemini-live-2.5-flash-preview",
  "text-embedding-004",
  "gemini-embedding-001",
  "imagen-4.0-generate-001",
  "veo-3.0-generate-001",
];

/**
 * The fake's token count for a text: its number of whitespace-separated words.
 *
 * promptTokenCount is this over every text part of systemInstruction and contents (plus the tokens
 * of a referenced cachedContent); candidatesTokenCount is this over the reply; thoughtsTokenCount
 * is the request's `generationConfig.thinkingConfig.thinkingBudget` when it sets a positive one.
 */
export function countFakeTokens(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}

/**
 * The deterministic embedding the fake returns for `text`: `dimensions` values in [-0.1, 0.1].
 */
export function fakeEmbedding(text: string, dimensions = 8): number[] {
  // FNV-1a seeds an xorshift generator, so equal texts embed equally.
  let seed = 0x811c9dc5;
  for (const ch of text) {
    seed ^= ch.codePointAt(0) ?? 0;
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  const values: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    values.push(Math.round(((seed / 0xffffffff) * 0.2 - 0.1) * 1e6) / 1e6);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface GoogleError {
  code: number;
  message: string;
  status: string;
  details?: Json[];
}

interface FakeModel {
  id: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  methods: string[];
  thinking?: boolean;
}

interface Rule {
  key: string | null;
  failure: Failure;
  model?: string;
  remaining: number;
}

interface Hold {
  index: number;
  reached: PromiseWithResolvers<void>;
  released: PromiseWithResolvers<void>;
  isReleased: boolean;
}

interface Owned {
  owner: string | null;
  resource: Json;
}

interface UploadSession {
  id: string;
  owner: string | null;
  displayName?: string;
  requestedName?: string;
  mimeType: string;
  declaredSize?: number;
  received: number;
  hash: Hash;
  state: "active" | "final" | "cancelled";
}

interface State {
  url: string;
  delayMs: number;
  gzip: boolean;
  streamChunks: number;
  chunkDelayMs: number;
  fake: FakeUpstream;
  requests: RecordedRequest[];
  rules: Rule[];
  holds: Hold[];
  files: Map<string, Owned>;
  caches: Map<string, Owned>;
  batches: Map<string, Owned>;
  interactions: Map<string, Owned>;
  uploads: Map<string, UploadSession>;
  sockets: Set<WebSocket>;
}

/** Everything a handler needs about the request in flight. */
interface Ctx {
  st: State;
  req: Request;
  url: URL;
  path: string;
  rec: RecordedRequest;
  index: number;
  finish: () => void;
  key: string | null;
  extraDelayMs: number;
  /** errors go out wrapped in a JSON array (OpenAI paths, JSON-array streams) */
  wrapErrors: boolean;
  /** error bodies keep the text/event-stream type (alt=sse streams) */
  sse: boolean;
  cut?: Extract<Failure, { kind: "cut_stream" }>;
}

/** What a handler answers; turned into a Response by `send`. */
interface Reply {
  status: number;
  contentType?: string;
  headers?: Record<string, string>;
  body?: string;
  chunks?: (signal: AbortSignal) => AsyncGenerator<string, void, undefined>;
}

const BODY_KEEP_LIMIT = 1024 * 1024;
const JSON_TYPE = "application/json; charset=UTF-8";
const SSE_TYPE = "text/event-stream";
const SERVICE = "generativelanguage.googleapis.com";
const FAKE_PROJECT = "123456789";
const UNREGISTERED =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
const INVALID_KEY_MESSAGE = "API key not valid. Please pass a valid API key.";
const NO_PERMISSION = "The caller does not have permission";
const FILE_TTL_MS = 48 * 3600 * 1000;
// A 1x1 transparent PNG, for image endpoints.
const TINY_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const WS_PATH =
  /^\/ws\/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;

const enc = new TextEncoder();

const MODELS: FakeModel[] = [
  chatModel("gemini-2.5-flash", "Gemini 2.5 Flash", true),
  chatModel("gemini-2.5-pro", "Gemini 2.5 Pro", true),
  chatModel("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", true),
  { ...chatModel("gemini-2.0-flash", "Gemini 2.0 Flash", false) },
  liveModel("gemini-2.0-flash-live-001", "Gemini 2.0 Flash Live"),
  liveModel("gemini-live-2.5-flash-preview", "Gemini Live 2.5 Flash Preview"),
  {
    id: "text-embedding-004",
    displayName: "Text Embedding 004",
    description: "Obtain a distributed representation of a text.",
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    methods: ["embedContent"],
  },
  {
    id: "gemini-embedding-001",
    displayName: "Gemini Embedding 001",
    description: "Obtain a distributed representation of a text.",
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    methods: ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
  },
  {
    id: "imagen-4.0-generate-001",
    displayName: "Imagen 4",
    description: "Vertex served Imagen 4.0 model",
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    methods: ["predict"],
  },
  {
    id: "veo-3.0-generate-001",
    displayName: "Veo 3",
    description: "Veo 3",
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    methods: ["predictLongRunning"],
  },
];

function chatModel(id: string, displayName: string, thinking: boolean): FakeModel {
  return {
    id,
    displayName,
    description: `Fake ${displayName} served by the test upstream`,
    inputTokenLimit: 1048576,
    outputTokenLimit: thinking ? 65536 : 8192,
    methods: [
      "generateContent",
      "countTokens",
      "createCachedContent",
      "batchGenerateContent",
    ],
    thinking,
  };
}

function liveModel(id: string, displayName: string): FakeModel {
  return {
    id,
    displayName,
    description: `Fake ${displayName} served by the test upstream`,
    inputTokenLimit: 131072,
    outputTokenLimit: 8192,
    methods: ["bidiGenerateContent"],
  };
}

/**
 * Start a fake Gemini upstream on 127.0.0.1 (a free port).
 *
 * @param options delays, compression and stream length
 * @returns the running fake; call `close()` when done
 * @example
 * ```ts
 * const fake = await startFakeUpstream({ streamChunks: 5 });
 * const res = await fetch(`${fake.url}/v1beta/models`, { headers: { "x-goog-api-key": "TEST-KEY" } });
 * await res.body?.cancel();
 * await fake.close();
 * ```
 */
export function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const st: State = {
    url: "",
    delayMs: options.delayMs ?? 0,
    gzip: options.gzip !== false,
    streamChunks: Math.max(1, options.streamChunks ?? 3),
    chunkDelayMs: options.chunkDelayMs ?? 0,
    fake: undefined as unknown as FakeUpstream, // set just below, before any request can arrive
    requests,
    rules: [],
    holds: [],
    files: new Map(),
    caches: new Map(),
    batches: new Map(),
    interactions: new Map(),
    uploads: new Map(),
    sockets: new Set(),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    function fakeUpstreamHandler(req) {
      return handleRequest(st, req);
    },
  );
  const port = server.addr.port;
  st.url = `http://127.0.0.1:${port}`;
  let closed = false;

  function addRule(
    key: string | null,
    failure: Failure,
    opts?: { model?: string; times?: number },
  ) {
    const rule: Rule = { key, failure, remaining: opts?.times ?? Infinity };
    if (opts?.model !== undefined) rule.model = stripModelPrefix(opts.model);
    st.rules.push(rule);
  }

  function releaseAll() {
    for (const hold of st.holds) {
      hold.isReleased = true;
      hold.released.resolve();
    }
    st.holds = [];
  }

  const fake: FakeUpstream = {
    url: st.url,
    port,
    requests,
    validKeys: new Set<string>(),
    failFor(key, failure, opts) {
      addRule(key, failure, opts);
    },
    failAll(failure, opts) {
      addRule(null, failure, opts);
    },
    holdStreamChunk(index) {
      const hold: Hold = {
        index,
        reached: Promise.withResolvers<void>(),
        released: Promise.withResolvers<void>(),
        isReleased: false,
      };
      st.holds.push(hold);
      return {
        reached: hold.reached.promise,
        release() {
          hold.isReleased = true;
          hold.released.resolve();
        },
      };
    },
    reset() {
      requests.length = 0;
      st.rules = [];
      releaseAll();
      fake.validKeys.clear();
      st.files.clear();
      st.caches.clear();
      st.batches.clear();
      st.interactions.clear();
      st.uploads.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      releaseAll();
      for (const socket of st.sockets) {
        try {
          socket.close(1001, "Fake upstream shutting down");
        } catch {
          // already closing
        }
      }
      await server.shutdown();
    },
  };
  st.fake = fake;
  return Promise.resolve(fake);
}

async function handleRequest(st: State, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const { promise: done, resolve: finish } = Promise.withResolvers<void>();
  const rec: RecordedRequest = {
    method: req.method,
    path: url.pathname,
    search: url.search,
    headers,
    key: credentialOf(req, url),
    bodyBytes: 0,
    body: null,
    responseStatus: 0,
    responseBody: "",
    done,
    cancelled: false,
  };
  const index = st.requests.push(rec) - 1;
  const ctx: Ctx = {
    st,
    req,
    url,
    // js-genai's Live client asks for `//ws/...`; Google accepts it, so the fake does too.
    path: url.pathname.replace(/^\/+/, "/"),
    rec,
    index,
    finish,
    key: rec.key,
    extraDelayMs: 0,
    wrapErrors: false,
    sse: false,
  };
  try {
    return await route(ctx);
  } catch (err) {
    const message = `Fake upstream crashed: ${err instanceof Error ? err.message : String(err)}`;
    return send(ctx, errorReply(ctx, gError(500, "INTERNAL", message)));
  }
}

function credentialOf(req: Request, url: URL): string | null {
  const header = req.headers.get("x-goog-api-key");
  if (header) return header;
  const query = url.searchParams.get("key");
  if (query) return query;
  const auth = req.headers.get("authorization") ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  return bearer?.[1]?.trim() ?? null;
}

async function route(ctx: Ctx): Promise<Response> {
  const { st, req, url, path } = ctx;
  const ws = WS_PATH.exec(path);
  if (ws) return await serveLive(ctx, ws[2] === "BidiGenerateContentConstrained");

  const isOpenAi = path.startsWith("/v1beta/openai/");
  const uploadMatch = /^\/upload\/(v1|v1beta|v1alpha)\/files$/.exec(path);
  const uploadId = url.searchParams.get("upload_id");
  const isChunk = uploadMatch !== null && uploadId !== null && req.method === "POST";
  const session = isChunk ? st.uploads.get(uploadId) : undefined;
  const isMultipart = uploadMatch !== null && !isChunk &&
    (req.headers.get("x-goog-upload-protocol") ?? "").toLowerCase() === "multipart";

  // Upload bytes are hashed as they arrive instead of being kept.
  let sink: ((chunk: Uint8Array) => void) | undefined;
  const offsetHeader = req.headers.get("x-goog-upload-offset");
  const offsetOk = session !== undefined && session.state === "active" &&
    (!ctx.key || ctx.key === session.owner) &&
    offsetHeader !== null && Number(offsetHeader) === session.received;
  if (session && offsetOk) {
    sink = (chunk) => {
      session.hash.update(chunk);
      session.received += chunk.byteLength;
    };
  }
  let scanner: MultipartScanner | undefined;
  if (isMultipart) {
    const boundary = /boundary="?([^";]+)"?/i.exec(req.headers.get("content-type") ?? "")?.[1];
    if (boundary) {
      const s = new MultipartScanner(boundary);
      scanner = s;
      sink = (chunk) => s.push(chunk);
    }
  }
  await readBody(ctx, sink);

  ctx.wrapErrors = isOpenAi;
  const method = /:([A-Za-z]+)$/.exec(path)?.[1];
  if (method === "streamGenerateContent") {
    ctx.sse = url.searchParams.get("alt") === "sse";
    ctx.wrapErrors = !ctx.sse;
  }
  const body = ctx.rec.body;
  const openAiBody = isOpenAi && req.method === "POST" ? tryParse(body) : undefined;
  const streaming = method === "streamGenerateContent" ||
    (isOpenAi && asObj(openAiBody)?.stream === true) ||
    (/^\/v1(beta|alpha)?\/interactions$/.test(path) &&
      wantsInteractionStream(req, tryParse(body)));
  const model = modelOf(path, isOpenAi ? openAiBody : tryParse(body));

  // Authentication comes first, as Google checks identity before anything else.
  if (!isChunk) {
    const auth = req.headers.get("authorization") ?? "";
    if (!isOpenAi && /^Bearer\s+/i.test(auth) && !/^Bearer\s+ya29\./i.test(auth)) {
      return send(ctx, errorReply(ctx, unauthenticated(path)));
    }
    if (!ctx.key) return send(ctx, errorReply(ctx, gError(403, "PERMISSION_DENIED", UNREGISTERED)));
  }

  const matchKey = isChunk ? session?.owner ?? ctx.key : ctx.key;
  const picked = takeFailure(st, matchKey, model, streaming);
  ctx.extraDelayMs += picked.delayMs;
  if (picked.failure?.kind === "cut_stream") {
    ctx.cut = picked.failure;
  } else if (picked.failure) {
    return send(ctx, errorReply(ctx, failureError(picked.failure, model, rpcName(path))));
  }
  if (!isChunk && st.fake.validKeys.size > 0 && !st.fake.validKeys.has(ctx.key ?? "")) {
    return send(ctx, errorReply(ctx, failureError({ kind: "invalid_key" }, model, "")));
  }

  if (isOpenAi) return send(ctx, serveOpenAi(ctx, path.slice("/v1beta/openai/".length)));
  if (uploadMatch) {
    if (isChunk) return send(ctx, serveUploadChunk(ctx, session, offsetOk));
    if (isMultipart) return send(ctx, finishMultipart(ctx, scanner));
    return send(ctx, startResumable(ctx, uploadMatch[1] ?? "v1beta"));
  }
  return send(ctx, serveNative(ctx));
}

async function readBody(ctx: Ctx, sink?: (chunk: Uint8Array) => void): Promise<void> {
  const rec = ctx.rec;
  if (!ctx.req.body) {
    rec.body = "";
    return;
  }
  const kept: Uint8Array[] = [];
  let keeping = true;
  for await (const chunk of ctx.req.body) {
    rec.bodyBytes += chunk.byteLength;
    sink?.(chunk);
    if (!keeping) continue;
    if (rec.bodyBytes <= BODY_KEEP_LIMIT) {
      kept.push(chunk);
    } else {
      keeping = false;
      kept.length = 0;
    }
  }
  rec.body = keeping ? new TextDecoder().decode(concatBytes(kept)) : null;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function modelOf(path: string, body: unknown): string | undefined {
  const fromPath = /^\/v1(?:beta|alpha)?\/(models|tunedModels)\/([^/:]+)/.exec(path);
  if (fromPath) return fromPath[1] === "models" ? fromPath[2] : `tunedModels/${fromPath[2]}`;
  const fromBody = asObj(body)?.model;
  return typeof fromBody === "string" ? stripModelPrefix(fromBody) : undefined;
}

function stripModelPrefix(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}

function takeFailure(
  st: State,
  key: string | null,
  model: string | undefined,
  streaming: boolean,
): { failure?: Failure; delayMs: number } {
  let delayMs = 0;
  for (const rule of st.rules) {
    if (rule.remaining <= 0) continue;
    if (rule.key !== null && rule.key !== key) continue;
    if (rule.model !== undefined && rule.model !== model) continue;
    // A cut only makes sense where there is a stream to cut.
    if (rule.failure.kind === "cut_stream" && !streaming) continue;
    rule.remaining--;
    if (rule.failure.kind === "slow_first_byte") {
      delayMs += rule.failure.ms;
      continue;
    }
    return { failure: rule.failure, delayMs };
  }
  return { delayMs };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

function gError(code: number, status: string, message: string, details?: Json[]): GoogleError {
  const error: GoogleError = { code, message, status };
  if (details) error.details = details;
  return error;
}

function errorReply(ctx: Ctx, error: GoogleError): Reply {
  const body = ctx.wrapErrors
    ? `[${JSON.stringify({ error }, null, 2)}\n]`
    : JSON.stringify({ error }, null, 2) + "\n";
  return { status: error.code, contentType: ctx.sse ? SSE_TYPE : JSON_TYPE, body };
}

function unauthenticated(path: string): GoogleError {
  return gError(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    [{
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED",
      metadata: {
        service: SERVICE,
        method: `google.ai.generativelanguage.v1beta.${rpcName(path)}`,
      },
    }],
  );
}

function rpcName(path: string): string {
  const method = /:([A-Za-z]+)$/.exec(path)?.[1] ?? "generateContent";
  return `GenerativeService.${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}

function notFound(message = "Method not found."): GoogleError {
  return gError(404, "NOT_FOUND", message);
}

function modelNotFound(id: string, version: string, method: string): GoogleError {
  return notFound(
    `models/${id} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

function badRequest(message: string, field?: string): GoogleError {
  const violation: Json = { description: message };
  if (field) violation.field = field;
  return gError(400, "INVALID_ARGUMENT", message, [
    { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [violation] },
  ]);
}

function invalidJson(): GoogleError {
  return badRequest("Invalid JSON payload received. Unexpected token.");
}

function failureError(failure: Failure, model: string | undefined, rpc: string): GoogleError {
  switch (failure.kind) {
    case "invalid_key":
      return gError(400, "INVALID_ARGUMENT", INVALID_KEY_MESSAGE, [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: SERVICE },
        },
        {
          "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
          locale: "en-US",
          message: INVALID_KEY_MESSAGE,
        },
      ]);
    case "permission_denied":
      return permissionDenied(failure.reason, rpc);
    case "quota":
      return quotaError(failure, model);
    case "status":
      if (failure.code === 500) {
        return gError(
          500,
          "INTERNAL",
          "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        );
      }
      if (failure.code === 503) {
        return gError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
      }
      return gError(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.");
    case "bad_request":
      return badRequest(
        "Invalid JSON payload received. Unknown name \"fake_field\" at 'generation_config': Cannot find field.",
        "generation_config",
      );
    case "location":
      return gError(400, "FAILED_PRECONDITION", "User location is not supported for the API use.");
    case "cut_stream":
    case "slow_first_byte":
      // Not errors by themselves; kept total so the switch stays exhaustive.
      return gError(500, "INTERNAL", `Failure ${failure.kind} cannot be sent as an error`);
  }
}

function permissionDenied(
  reason: "SERVICE_DISABLED" | "API_KEY_SERVICE_BLOCKED" | "LEAKED" | undefined,
  rpc: string,
): GoogleError {
  if (reason === "SERVICE_DISABLED") {
    const activationUrl =
      `https://console.developers.google.com/apis/api/${SERVICE}/overview?project=${FAKE_PROJECT}`;
    const message =
      `Generative Language API has not been used in project ${FAKE_PROJECT} before or it is disabled. Enable it by visiting ${activationUrl} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`;
    return gError(403, "PERMISSION_DENIED", message, [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "SERVICE_DISABLED",
        domain: "googleapis.com",
        metadata: {
          consumer: `projects/${FAKE_PROJECT}`,
          service: SERVICE,
          activationUrl,
          containerInfo: FAKE_PROJECT,
          serviceTitle: "Generative Language API",
        },
      },
      { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [{ description: "Google developers console API activation", url: activationUrl }],
      },
    ]);
  }
  if (reason === "API_KEY_SERVICE_BLOCKED") {
    const methodName = `google.ai.generativelanguage.v1beta.${rpc}`;
    return gError(
      403,
      "PERMISSION_DENIED",
      `Requests to this API ${SERVICE} method ${methodName} are blocked.`,
      [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_SERVICE_BLOCKED",
        domain: "googleapis.com",
        metadata: {
          consumer: `projects/${FAKE_PROJECT}`,
          service: SERVICE,
          methodName,
          apiName: SERVICE,
        },
      }],
    );
  }
  if (reason === "LEAKED") {
    return gError(
      403,
      "PERMISSION_DENIED",
      "Your API key was reported as leaked. Please use another API key.",
    );
  }
  return gError(403, "PERMISSION_DENIED", NO_PERMISSION);
}

function quotaError(
  failure: Extract<Failure, { kind: "quota" }>,
  model: string | undefined,
): GoogleError {
  if (failure.legacy) {
    return gError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).");
  }
  const scopes = {
    minute: {
      metric: "generate_content_free_tier_requests",
      quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      limit: "10",
      retry: 38.52,
    },
    day: {
      metric: "generate_content_free_tier_requests",
      quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
      limit: "250",
      retry: 65205.31,
    },
    tokens_minute: {
      metric: "generate_content_free_tier_input_token_count",
      quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
      limit: "250000",
      retry: 21.7,
    },
  } as const;
  const scope = scopes[failure.scope];
  const retry = failure.retryDelaySeconds ?? scope.retry;
  const named = failure.quotaModel ?? model;
  const metric = `generativelanguage.googleapis.com/${scope.metric}`;
  const modelNote = named ? `, model: ${named}` : "";
  const message =
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n" +
    `* Quota exceeded for metric: ${metric}, limit: ${scope.limit}${modelNote}\n` +
    `Please retry in ${retry}s.`;
  const dimensions: Json = { location: "global" };
  if (named) dimensions.model = named;
  return gError(429, "RESOURCE_EXHAUSTED", message, [
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [{
        description: "Learn more about Gemini API quotas",
        url: "https://ai.google.dev/gemini-api/docs/rate-limits",
      }],
    },
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [{
        quotaMetric: metric,
        quotaId: scope.quotaId,
        quotaDimensions: dimensions,
        quotaValue: scope.limit,
      }],
    },
    // Google rounds the delay down to whole seconds here, unlike in the message.
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${Math.floor(retry)}s` },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

async function send(ctx: Ctx, reply: Reply): Promise<Response> {
  const wait = ctx.st.delayMs + ctx.extraDelayMs;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const headers = new Headers(reply.headers);
  headers.set("x-fake-request-index", String(ctx.index));
  headers.set("vary", "Origin, X-Origin, Referer");
  headers.set("server", "scaffolding on HTTPServer2");
  headers.set("x-xss-protection", "0");
  headers.set("x-frame-options", "SAMEORIGIN");
  headers.set("x-content-type-options", "nosniff");
  headers.set("server-timing", `gfet4t7; dur=${1 + wait}`);
  if (reply.contentType) headers.set("content-type", reply.contentType);
  if (reply.contentType === SSE_TYPE && reply.status === 200) {
    headers.set("content-disposition", "attachment");
  }
  ctx.rec.responseStatus = reply.status;
  const body = reply.body ?? "";
  const gzip = ctx.st.gzip &&
    /\bgzip\b/i.test(ctx.req.headers.get("accept-encoding") ?? "") &&
    (reply.chunks !== undefined || body !== "");
  if (gzip) headers.set("content-encoding", "gzip");

  if (!reply.chunks) {
    ctx.rec.responseBody = body;
    ctx.finish();
    if (!gzip) return new Response(body === "" ? null : body, { status: reply.status, headers });
    const compressed = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(compressed, { status: reply.status, headers });
  }
  let stream = trackedStream(ctx, reply.chunks);
  // Deno's CompressionStream emits each written chunk at once (checked in the tests), so gzip
  // does not delay a streamed chunk.
  if (gzip) stream = stream.pipeThrough(new CompressionStream("gzip"));
  return new Response(stream, { status: reply.status, headers });
}

/** Wraps a chunk generator so the record learns what was sent and whether the client left. */
function trackedStream(
  ctx: Ctx,
  chunks: (signal: AbortSignal) => AsyncGenerator<string, void, undefined>,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  const abort = new AbortController();
  const gen = chunks(abort.signal);
  const rec = ctx.rec;
  let sent = "";
  let ended = false;
  function end(cancelled: boolean) {
    if (ended) return;
    ended = true;
    rec.cancelled = cancelled;
    rec.responseBody = sent;
    ctx.finish();
  }
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      let step: IteratorResult<string, void>;
      try {
        step = await gen.next();
      } catch (err) {
        end(false);
        controller.error(err);
        return;
      }
      if (ended) return;
      if (step.done) {
        end(false);
        controller.close();
        return;
      }
      sent += step.value;
      rec.responseBody = sent;
      controller.enqueue(enc.encode(step.value));
    },
    cancel() {
      end(true);
      abort.abort();
      gen.return(undefined).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

/** Yields `pieces` one write at a time, honouring holds, then `tail` (never held). */
async function* paced(
  st: State,
  signal: AbortSignal,
  pieces: string[],
  tail = "",
): AsyncGenerator<string, void, undefined> {
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0) await pause(st.chunkDelayMs, signal);
    await passHolds(st, i, signal);
    if (signal.aborted) return;
    yield pieces[i] ?? "";
  }
  if (tail !== "") {
    await pause(st.chunkDelayMs, signal);
    if (signal.aborted) return;
    yield tail;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      resolve();
    }
    signal.addEventListener("abort", finish, { once: true });
  });
}

async function passHolds(st: State, index: number, signal: AbortSignal): Promise<void> {
  for (const hold of [...st.holds]) {
    if (hold.index !== index || hold.isReleased) continue;
    hold.reached.resolve();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
      hold.released.promise.then(() => resolve());
    });
  }
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

function jsonReply(value: unknown, status = 200, headers?: Record<string, string>): Reply {
  const reply: Reply = { status, contentType: JSON_TYPE, body: pretty(value) };
  if (headers) reply.headers = headers;
  return reply;
}

/** Google's SSE lines: a space after each colon, none after commas. */
function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function asObj(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Json
    : undefined;
}

function asArr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asStr(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function tryParse(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Parses a request body that must be a JSON object (or empty). */
function parseObject(ctx: Ctx): { ok: true; value: Json } | { ok: false; error: GoogleError } {
  const text = ctx.rec.body;
  if (text === null) {
    return { ok: false, error: badRequest("Request payload size exceeds the limit") };
  }
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    const value = asObj(JSON.parse(text));
    if (value) return { ok: true, value };
  } catch {
    // fall through to Google's wording
  }
  return { ok: false, error: invalidJson() };
}

function randomId(length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function responseId(): string {
  return randomId(23, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

function now(): string {
  return new Date().toISOString();
}

function pageOf<T>(
  items: T[],
  url: URL,
  defaultSize: number,
  maxSize: number,
): { page: T[]; next?: string } | null {
  const size = Math.min(
    Number(url.searchParams.get("pageSize") ?? defaultSize) || defaultSize,
    maxSize,
  );
  const token = url.searchParams.get("pageToken");
  let start = 0;
  if (token) {
    const decoded = /^offset:(\d+)$/.exec(safeAtob(token));
    if (!decoded) return null;
    start = Number(decoded[1]);
  }
  const page = items.slice(start, start + size);
  const result: { page: T[]; next?: string } = { page };
  if (start + size < items.length) result.next = btoa(`offset:${start + size}`);
  return result;
}

function safeAtob(value: string): string {
  try {
    return atob(value);
  } catch {
    return "";
  }
}

function findModel(id: string): FakeModel | undefined {
  return MODELS.find((m) => m.id === id);
}

function modelResource(model: FakeModel): Json {
  const resource: Json = {
    name: `models/${model.id}`,
    version: "001",
    displayName: model.displayName,
    description: model.description,
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: model.methods,
  };
  if (model.methods.includes("generateContent")) {
    Object.assign(resource, { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2 });
  }
  if (model.thinking) resource.thinking = true;
  return resource;
}

function ownerCheck(ctx: Ctx, entry: Owned | undefined, missing: GoogleError): GoogleError | null {
  if (!entry) return missing;
  if (entry.owner !== ctx.key) return gError(403, "PERMISSION_DENIED", NO_PERMISSION);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Native REST API
// ---------------------------------------------------------------------------------------------

function serveNative(ctx: Ctx): Reply {
  const { req, path } = ctx;
  const m = /^\/(v1|v1beta|v1alpha)\/(.*)$/.exec(path);
  if (!m) return errorReply(ctx, notFound());
  const version = m[1] ?? "v1beta";
  const rest = m[2] ?? "";
  const get = req.method === "GET";

  if (rest === "models" && get) return listModels(ctx);
  let r = /^models\/([^/:]+)$/.exec(rest);
  if (r && get) {
    const model = findModel(r[1] ?? "");
    if (!model) return errorReply(ctx, modelNotFound(r[1] ?? "", version, "get"));
    return jsonReply(modelResource(model));
  }
  r = /^(models|tunedModels)\/([^/:]+):([A-Za-z]+)$/.exec(rest);
  if (r && req.method === "POST") {
    return modelMethod(ctx, version, r[1] === "tunedModels", r[2] ?? "", r[3] ?? "");
  }
  r = /^models\/([^/:]+)\/operations\/([^/:]+)$/.exec(rest);
  if (r && get) return jsonReply(videoOperation(r[1] ?? "", r[2] ?? ""));

  if (rest === "cachedContents") {
    if (req.method === "POST") return createCache(ctx);
    if (get) return listOwned(ctx, ctx.st.caches, "cachedContents", 100, 1000);
  }
  r = /^cachedContents\/([^/:]+)$/.exec(rest);
  if (r) return cacheItem(ctx, r[1] ?? "");

  if (rest === "files" && get) return listOwned(ctx, ctx.st.files, "files", 10, 100);
  r = /^files\/([^/:]+)$/.exec(rest);
  if (r && (get || req.method === "DELETE")) {
    const id = r[1] ?? "";
    const entry = ctx.st.files.get(id);
    const denied = ownerCheck(ctx, entry, notFound(`File files/${id} not found.`));
    if (denied) return errorReply(ctx, denied);
    if (get) return jsonReply(entry?.resource);
    ctx.st.files.delete(id);
    return jsonReply({});
  }

  if (rest === "batches" && get) return listOwned(ctx, ctx.st.batches, "operations", 50, 1000);
  r = /^batches\/([^/:]+)(:cancel)?$/.exec(rest);
  if (r) return batchItem(ctx, r[1] ?? "", r[2] !== undefined);

  if (rest === "interactions" && req.method === "POST") return interaction(ctx);
  r = /^interactions\/([^/:]+)$/.exec(rest);
  if (r && (get || req.method === "DELETE")) {
    const id = r[1] ?? "";
    const entry = ctx.st.interactions.get(id);
    const denied = ownerCheck(ctx, entry, notFound("Requested entity was not found."));
    if (denied) return errorReply(ctx, denied);
    if (get) return jsonReply(entry?.resource);
    ctx.st.interactions.delete(id);
    return jsonReply({});
  }
  return errorReply(ctx, notFound());
}

function listModels(ctx: Ctx): Reply {
  const page = pageOf(MODELS, ctx.url, 50, 1000);
  if (!page) return errorReply(ctx, badRequest("Invalid page token."));
  const body: Json = { models: page.page.map(modelResource) };
  if (page.next) body.nextPageToken = page.next;
  return jsonReply(body);
}

function listOwned(
  ctx: Ctx,
  store: Map<string, Owned>,
  field: string,
  defaultSize: number,
  maxSize: number,
): Reply {
  const own = [...store.values()].filter((e) => e.owner === ctx.key).map((e) => e.resource);
  const page = pageOf(own, ctx.url, defaultSize, maxSize);
  if (!page) return errorReply(ctx, badRequest("Invalid page token."));
  const body: Json = {};
  if (page.page.length > 0) body[field] = page.page;
  if (page.next) body.nextPageToken = page.next;
  return jsonReply(body);
}

function modelMethod(
  ctx: Ctx,
  version: string,
  tuned: boolean,
  id: string,
  method: string,
): Reply {
  const needs: Record<string, string> = {
    generateContent: "generateContent",
    streamGenerateContent: "generateContent",
    countTokens: "countTokens",
    embedContent: "embedContent",
    batchEmbedContents: "embedContent",
    batchGenerateContent: "batchGenerateContent",
    predict: "predict",
    predictLongRunning: "predictLongRunning",
  };
  const capability = needs[method];
  if (!capability) return errorReply(ctx, notFound());
  const model = tuned ? undefined : findModel(id);
  const supported = tuned
    ? ["generateContent", "countTokens"].includes(capability)
    : model?.methods.includes(capability);
  if (!supported) return errorReply(ctx, modelNotFound(id, version, method));
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const body = parsed.value;
  const modelName = tuned ? `tunedModels/${id}` : id;

  switch (method) {
    case "generateContent":
    case "streamGenerateContent":
      return generate(ctx, modelName, body, method === "streamGenerateContent");
    case "countTokens":
      return countTokens(ctx, body);
    case "embedContent": {
      const content = asObj(body.content);
      if (!content) {
        return errorReply(
          ctx,
          badRequest("* EmbedContentRequest.content: content is not specified\n"),
        );
      }
      const dims = Number(body.outputDimensionality) || 8;
      return jsonReply({ embedding: { values: fakeEmbedding(partsText(content), dims) } });
    }
    case "batchEmbedContents": {
      const requests = asArr(body.requests);
      if (requests.length === 0) {
        return errorReply(
          ctx,
          badRequest("* BatchEmbedContentsRequest.requests: requests is not specified\n"),
        );
      }
      const embeddings = requests.map((r) => {
        const request = asObj(r) ?? {};
        const dims = Number(request.outputDimensionality) || 8;
        return { values: fakeEmbedding(partsText(asObj(request.content) ?? {}), dims) };
      });
      return jsonReply({ embeddings });
    }
    case "batchGenerateContent":
      return createBatch(ctx, modelName, body);
    case "predict": {
      const count = Number(asObj(body.parameters)?.sampleCount) || 1;
      const predictions = Array.from(
        { length: count },
        () => ({ bytesBase64Encoded: TINY_PNG, mimeType: "image/png" }),
      );
      return jsonReply({ predictions });
    }
    default:
      return jsonReply({ name: `models/${id}/operations/${randomId(12)}` });
  }
}

function videoOperation(model: string, id: string): Json {
  return {
    name: `models/${model}/operations/${id}`,
    done: true,
    response: {
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
      generateVideoResponse: {
        generatedSamples: [{ video: { uri: `https://example.invalid/fake-video/${id}.mp4` } }],
      },
    },
  };
}

/** Concatenated text of a Content's parts, joined with a space. */
function partsText(content: Json): string {
  return asArr(content.parts)
    .map((p) => asStr(asObj(p)?.text))
    .filter((t): t is string => t !== undefined)
    .join(" ");
}

interface Plan {
  modelVersion: string;
  responseId: string;
  promptTokens: number;
  cachedTokens: number;
  /** thinking tokens: the request's thinkingConfig.thinkingBudget when positive, else 0 */
  thoughtsTokens: number;
  /** reply split into words with their leading whitespace, so pieces concatenate back */
  words: string[];
  finishReason: string;
}

function planGeneration(ctx: Ctx, model: string, body: Json): Plan | GoogleError {
  const contents = asArr(body.contents).map((c) => asObj(c) ?? {});
  if (contents.length === 0) {
    return badRequest("* GenerateContentRequest.contents: contents is not specified\n");
  }
  const refused = checkReferences(ctx, body, contents);
  if (refused) return refused;
  let cachedTokens = 0;
  const cacheName = asStr(body.cachedContent);
  if (cacheName) {
    const cache = ctx.st.caches.get(cacheName.replace(/^cachedContents\//, ""));
    cachedTokens = Number(asObj(cache?.resource.usageMetadata)?.totalTokenCount) || 0;
  }
  const system = asObj(body.systemInstruction);
  const promptText = [system ? partsText(system) : "", ...contents.map(partsText)].join(" ");
  const lastUser = [...contents].reverse().find((c) => c.role === undefined || c.role === "user");
  const reply = `Echo: ${lastUser ? partsText(lastUser) : ""}`;
  let words: string[] = reply.match(/\s*\S+/g) ?? [reply];
  let finishReason = "STOP";
  const max = Number(asObj(body.generationConfig)?.maxOutputTokens);
  const budget = Number(asObj(asObj(body.generationConfig)?.thinkingConfig)?.thinkingBudget);
  if (max > 0 && words.length > max) {
    words = words.slice(0, max);
    finishReason = "MAX_TOKENS";
  }
  return {
    modelVersion: model,
    responseId: responseId(),
    promptTokens: countFakeTokens(promptText) + cachedTokens,
    cachedTokens,
    thoughtsTokens: budget > 0 ? Math.floor(budget) : 0,
    words,
    finishReason,
  };
}

/** Refuses caches and files that belong to another key, as Google does across projects. */
function checkReferences(ctx: Ctx, body: Json, contents: Json[]): GoogleError | null {
  const cacheName = asStr(body.cachedContent);
  if (cacheName) {
    const denied = ownerCheck(
      ctx,
      ctx.st.caches.get(cacheName.replace(/^cachedContents\//, "")),
      gError(403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)"),
    );
    if (denied) return denied;
  }
  for (const content of contents) {
    for (const part of asArr(content.parts)) {
      const uri = asStr(asObj(asObj(part)?.fileData)?.fileUri);
      const id = uri ? /\/files\/([a-z0-9-]+)$/.exec(uri)?.[1] : undefined;
      if (!id) continue;
      const denied = ownerCheck(
        ctx,
        ctx.st.files.get(id),
        gError(
          403,
          "PERMISSION_DENIED",
          `You do not have permission to access the File ${id} or it may not exist.`,
        ),
      );
      if (denied) return denied;
    }
  }
  return null;
}

function usageMetadata(prompt: number, candidates: number, cached: number, thoughts = 0): Json {
  const usage: Json = {};
  if (prompt) usage.promptTokenCount = prompt;
  if (candidates) usage.candidatesTokenCount = candidates;
  if (prompt + candidates + thoughts) usage.totalTokenCount = prompt + candidates + thoughts;
  if (cached) usage.cachedContentTokenCount = cached;
  if (thoughts) usage.thoughtsTokenCount = thoughts;
  if (prompt) usage.promptTokensDetails = [{ modality: "TEXT", tokenCount: prompt }];
  if (cached) usage.cacheTokensDetails = [{ modality: "TEXT", tokenCount: cached }];
  return usage;
}

function generateResponse(plan: Plan, text: string, sentWords: number, finish: boolean): Json {
  const candidate: Json = { content: { parts: [{ text }], role: "model" } };
  if (finish) candidate.finishReason = plan.finishReason;
  candidate.index = 0;
  return {
    candidates: [candidate],
    usageMetadata: usageMetadata(
      plan.promptTokens,
      sentWords,
      plan.cachedTokens,
      plan.thoughtsTokens,
    ),
    modelVersion: plan.modelVersion,
    responseId: plan.responseId,
  };
}

/** Splits the reply into `count` chunk texts; trailing chunks may be empty, as Google's are. */
function splitReply(plan: Plan, count: number): { text: string; words: number }[] {
  const chunks: { text: string; words: number }[] = [];
  const total = plan.words.length;
  for (let i = 0; i < count; i++) {
    const from = Math.ceil((i * total) / count);
    const to = Math.ceil(((i + 1) * total) / count);
    chunks.push({ text: plan.words.slice(from, to).join(""), words: to });
  }
  return chunks;
}

/** Top-level fields of GenerateContentRequest, in both spellings proto3 JSON accepts. */
const GENERATE_FIELDS = new Set(
  [
    "model",
    "contents",
    "systemInstruction",
    "generationConfig",
    "safetySettings",
    "tools",
    "toolConfig",
    "cachedContent",
    "labels",
    "serviceTier",
    "store",
    "continuationToken",
  ].flatMap((name) => [name, name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]),
);

/** Google's answer to a field it does not know: the name is echoed back, quoted. */
function unknownFieldError(body: Json): GoogleError | null {
  const unknown = Object.keys(body).find((name) => !GENERATE_FIELDS.has(name));
  if (unknown === undefined) return null;
  return badRequest(
    `Invalid JSON payload received. Unknown name ${JSON.stringify(unknown)}: Cannot find field.`,
  );
}

function generate(ctx: Ctx, model: string, body: Json, stream: boolean): Reply {
  const unknown = unknownFieldError(body);
  if (unknown) return errorReply(ctx, unknown);
  const plan = planGeneration(ctx, model, body);
  if ("code" in plan) return errorReply(ctx, plan);
  if (!stream) {
    const text = plan.words.join("");
    return jsonReply(generateResponse(plan, text, plan.words.length, true));
  }
  const parts = splitReply(plan, ctx.st.streamChunks);
  const objects = parts.map((part, i) =>
    generateResponse(plan, part.text, part.words, i === parts.length - 1)
  );
  const cut = ctx.cut;
  const sent = cut ? objects.slice(0, Math.max(0, cut.afterChunks)) : objects;
  const cutError = cut?.error
    ? failureError(
      cut.error === 429 ? { kind: "quota", scope: "minute" } : { kind: "status", code: 503 },
      model,
      "GenerativeService.StreamGenerateContent",
    )
    : undefined;
  const st = ctx.st;
  if (ctx.sse) {
    const pieces = sent.map((o) => `data: ${oneLine(o)}\r\n\r\n`);
    const tail = cutError ? pretty({ error: cutError }) : "";
    return {
      status: 200,
      contentType: SSE_TYPE,
      chunks: (signal) => paced(st, signal, pieces, tail),
    };
  }
  const pieces = sent.map((o, i) => `${i === 0 ? "[" : "\n,\r\n"}${JSON.stringify(o, null, 2)}`);
  let tail = "\n]";
  if (cut) {
    // In the JSON-array form the error rides as one more element; a cut without error leaves
    // the array unterminated, which is what a dropped connection looks like to a parser.
    const sep = sent.length === 0 ? "[" : "\n,\r\n";
    tail = cutError ? `${sep}${JSON.stringify({ error: cutError }, null, 2)}\n]` : "";
  }
  return {
    status: 200,
    contentType: JSON_TYPE,
    chunks: (signal) => paced(st, signal, pieces, tail),
  };
}

function countTokens(ctx: Ctx, body: Json): Reply {
  const gcr = asObj(body.generateContentRequest);
  if (gcr && body.contents !== undefined) {
    return errorReply(
      ctx,
      badRequest("contents and generate_content_request cannot both be set."),
    );
  }
  const source = gcr ?? body;
  const system = asObj(source.systemInstruction);
  const text = [
    system ? partsText(system) : "",
    ...asArr(source.contents).map((c) => partsText(asObj(c) ?? {})),
  ].join(" ");
  const total = countFakeTokens(text);
  const result: Json = {};
  if (total) {
    result.totalTokens = total;
    result.promptTokensDetails = [{ modality: "TEXT", tokenCount: total }];
  }
  return jsonReply(result);
}

// ---------------------------------------------------------------------------------------------
// cachedContents and batches
// ---------------------------------------------------------------------------------------------

function ttlSeconds(value: unknown, fallback: number): number {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(asStr(value) ?? "");
  return m ? Number(m[1]) : fallback;
}

function createCache(ctx: Ctx): Reply {
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const body = parsed.value;
  const modelName = asStr(body.model);
  if (!modelName) {
    return errorReply(
      ctx,
      badRequest("* CreateCachedContentRequest.cached_content.model: model is not specified\n"),
    );
  }
  const model = findModel(stripModelPrefix(modelName));
  if (!model?.methods.includes("createCachedContent")) {
    return errorReply(
      ctx,
      modelNotFound(stripModelPrefix(modelName), "v1beta", "createCachedContent"),
    );
  }
  const system = asObj(body.systemInstruction);
  const tokens = countFakeTokens(
    [system ? partsText(system) : "", ...asArr(body.contents).map((c) => partsText(asObj(c) ?? {}))]
      .join(" "),
  );
  const id = randomId(16);
  const created = now();
  const expire = asStr(body.expireTime) ??
    new Date(Date.now() + ttlSeconds(body.ttl, 3600) * 1000).toISOString();
  const resource: Json = { name: `cachedContents/${id}`, model: `models/${model.id}` };
  if (asStr(body.displayName)) resource.displayName = body.displayName;
  Object.assign(resource, {
    createTime: created,
    updateTime: created,
    expireTime: expire,
    usageMetadata: { totalTokenCount: tokens },
  });
  ctx.st.caches.set(id, { owner: ctx.key, resource });
  return jsonReply(resource);
}

function cacheItem(ctx: Ctx, id: string): Reply {
  const entry = ctx.st.caches.get(id);
  const denied = ownerCheck(
    ctx,
    entry,
    gError(403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)"),
  );
  if (denied || !entry) return errorReply(ctx, denied ?? notFound());
  switch (ctx.req.method) {
    case "GET":
      return jsonReply(entry.resource);
    case "DELETE":
      ctx.st.caches.delete(id);
      return jsonReply({});
    case "PATCH": {
      const parsed = parseObject(ctx);
      if (!parsed.ok) return errorReply(ctx, parsed.error);
      const expire = asStr(parsed.value.expireTime) ??
        new Date(Date.now() + ttlSeconds(parsed.value.ttl, 3600) * 1000).toISOString();
      Object.assign(entry.resource, { updateTime: now(), expireTime: expire });
      return jsonReply(entry.resource);
    }
    default:
      return errorReply(ctx, notFound());
  }
}

function createBatch(ctx: Ctx, model: string, body: Json): Reply {
  const batch = asObj(body.batch);
  if (!batch) {
    return errorReply(
      ctx,
      badRequest("* BatchGenerateContentRequest.batch: batch is not specified\n"),
    );
  }
  const inlined = asArr(asObj(asObj(asObj(batch.inputConfig)?.requests))?.requests)
    .map((r) => asObj(r) ?? {});
  const id = randomId(16);
  const created = now();
  const responses = inlined.map((item) => {
    const plan = planGeneration(ctx, model, asObj(item.request) ?? {});
    const out: Json = "code" in plan
      ? { error: { code: plan.code, message: plan.message } }
      : { response: generateResponse(plan, plan.words.join(""), plan.words.length, true) };
    if (item.metadata !== undefined) out.metadata = item.metadata;
    return out;
  });
  const metadata: Json = {
    "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
    model: `models/${model}`,
    displayName: asStr(batch.displayName) ?? "",
    createTime: created,
    updateTime: created,
    batchStats: {
      requestCount: String(inlined.length),
      pendingRequestCount: String(inlined.length),
    },
    state: "BATCH_STATE_PENDING",
    name: `batches/${id}`,
  };
  const operation: Json = { name: `batches/${id}`, metadata };
  // The stored copy is what later GETs see: the fake finishes batches instantly.
  const finished: Json = {
    name: `batches/${id}`,
    metadata: {
      ...metadata,
      state: "BATCH_STATE_SUCCEEDED",
      endTime: created,
      batchStats: {
        requestCount: String(inlined.length),
        successfulRequestCount: String(inlined.length),
      },
      output: { inlinedResponses: { inlinedResponses: responses } },
    },
    done: true,
    response: {
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
      inlinedResponses: { inlinedResponses: responses },
    },
  };
  ctx.st.batches.set(id, { owner: ctx.key, resource: finished });
  return jsonReply(operation);
}

function batchItem(ctx: Ctx, id: string, cancel: boolean): Reply {
  const entry = ctx.st.batches.get(id);
  const denied = ownerCheck(ctx, entry, notFound("Requested entity was not found."));
  if (denied || !entry) return errorReply(ctx, denied ?? notFound());
  if (cancel && ctx.req.method === "POST") {
    const metadata = asObj(entry.resource.metadata) ?? {};
    metadata.state = "BATCH_STATE_CANCELLED";
    return jsonReply({});
  }
  if (ctx.req.method === "GET") return jsonReply(entry.resource);
  if (ctx.req.method === "DELETE") {
    ctx.st.batches.delete(id);
    return jsonReply({});
  }
  return errorReply(ctx, notFound());
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

function startResumable(ctx: Ctx, version: string): Reply {
  const protocol = (ctx.req.headers.get("x-goog-upload-protocol") ?? "").toLowerCase();
  const command = (ctx.req.headers.get("x-goog-upload-command") ?? "").toLowerCase();
  if (ctx.req.method !== "POST" || protocol !== "resumable" || command !== "start") {
    return errorReply(ctx, badRequest("Upload protocol or command is missing or not supported."));
  }
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const file = asObj(parsed.value.file) ?? {};
  const declared = ctx.req.headers.get("x-goog-upload-header-content-length");
  const id = randomId(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
  const session: UploadSession = {
    id,
    owner: ctx.key,
    mimeType: ctx.req.headers.get("x-goog-upload-header-content-type") ?? asStr(file.mimeType) ??
      "application/octet-stream",
    received: 0,
    hash: createHash("sha256"),
    state: "active",
  };
  const displayName = asStr(file.displayName);
  if (displayName) session.displayName = displayName;
  const requestedName = asStr(file.name);
  if (requestedName) session.requestedName = requestedName;
  if (declared !== null && /^\d+$/.test(declared)) session.declaredSize = Number(declared);
  ctx.st.uploads.set(id, session);
  return {
    status: 200,
    headers: {
      "x-goog-upload-url":
        `${ctx.st.url}/upload/${version}/files?upload_id=${id}&upload_protocol=resumable`,
      "x-goog-upload-status": "active",
      "x-goog-upload-chunk-granularity": "8388608",
      "x-guploader-uploadid": id,
    },
  };
}

function serveUploadChunk(ctx: Ctx, session: UploadSession | undefined, offsetOk: boolean): Reply {
  if (!session) return errorReply(ctx, notFound("Upload session not found."));
  if (ctx.key && ctx.key !== session.owner) {
    return errorReply(ctx, gError(403, "PERMISSION_DENIED", NO_PERMISSION));
  }
  const commands = (ctx.req.headers.get("x-goog-upload-command") ?? "").toLowerCase()
    .split(",").map((c) => c.trim()).filter((c) => c !== "");
  if (session.state !== "active") {
    return {
      ...errorReply(ctx, badRequest(`Upload session is already ${session.state}.`)),
      headers: { "x-goog-upload-status": session.state },
    };
  }
  if (commands.includes("query")) {
    return {
      status: 200,
      headers: {
        "x-goog-upload-status": "active",
        "x-goog-upload-size-received": String(session.received),
      },
    };
  }
  if (commands.includes("cancel")) {
    session.state = "cancelled";
    return { status: 200, headers: { "x-goog-upload-status": "cancelled" } };
  }
  if (commands.includes("upload") && !offsetOk) {
    const offset = ctx.req.headers.get("x-goog-upload-offset");
    return {
      ...errorReply(
        ctx,
        badRequest(
          `Invalid upload offset ${
            JSON.stringify(offset)
          }: ${session.received} bytes were received so far.`,
        ),
      ),
      headers: { "x-goog-upload-status": "active" },
    };
  }
  if (!commands.includes("finalize")) {
    if (!commands.includes("upload")) {
      return errorReply(ctx, badRequest("Upload command is missing or not supported."));
    }
    return { status: 200, headers: { "x-goog-upload-status": "active" } };
  }
  if (session.declaredSize !== undefined && session.declaredSize !== session.received) {
    session.state = "cancelled";
    return {
      ...errorReply(
        ctx,
        badRequest(
          `Upload finalized with ${session.received} bytes but ${session.declaredSize} were declared.`,
        ),
      ),
      headers: { "x-goog-upload-status": "final" },
    };
  }
  session.state = "final";
  ctx.st.uploads.delete(session.id);
  const file = storeFile(ctx, session.owner, {
    displayName: session.displayName,
    requestedName: session.requestedName,
    mimeType: session.mimeType,
    size: session.received,
    sha256Hex: session.hash.digest("hex"),
  });
  return jsonReply({ file }, 200, { "x-goog-upload-status": "final" });
}

function storeFile(
  ctx: Ctx,
  owner: string | null,
  info: {
    displayName: string | undefined;
    requestedName: string | undefined;
    mimeType: string;
    size: number;
    sha256Hex: string;
  },
): Json {
  let id = info.requestedName?.replace(/^files\//, "") ?? "";
  if (!/^[a-z0-9-]{1,40}$/.test(id) || ctx.st.files.has(id)) id = randomId(12);
  const created = now();
  const file: Json = { name: `files/${id}` };
  if (info.displayName) file.displayName = info.displayName;
  Object.assign(file, {
    mimeType: info.mimeType,
    sizeBytes: String(info.size),
    createTime: created,
    updateTime: created,
    expirationTime: new Date(Date.now() + FILE_TTL_MS).toISOString(),
    // Google's sha256Hash is the base64 of the hex digest, not of the raw digest.
    sha256Hash: btoa(info.sha256Hex),
    uri: `${ctx.st.url}/v1beta/files/${id}`,
    state: "ACTIVE",
    source: "UPLOADED",
  });
  ctx.st.files.set(id, { owner, resource: file });
  return file;
}

function finishMultipart(ctx: Ctx, scanner: MultipartScanner | undefined): Reply {
  const result = scanner?.finish();
  if (!result) {
    return errorReply(ctx, badRequest("Multipart upload body is malformed."));
  }
  const meta = asObj(asObj(tryParse(result.metadata))?.file) ?? {};
  const file = storeFile(ctx, ctx.key, {
    displayName: asStr(meta.displayName),
    requestedName: asStr(meta.name),
    mimeType: result.mimeType ?? asStr(meta.mimeType) ?? "application/octet-stream",
    size: result.size,
    sha256Hex: result.sha256Hex,
  });
  return jsonReply({ file }, 200, { "x-goog-upload-status": "final" });
}

/**
 * Reads a two-part multipart/related upload (JSON metadata, then media) as it streams: only the
 * headers and a short tail are kept, the media bytes are hashed and counted.
 */
class MultipartScanner {
  #delimiter: Uint8Array;
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #started = false;
  #failed = false;
  #tail = new Uint8Array(0);
  #hash = createHash("sha256");
  #size = 0;
  metadata = "";
  mimeType: string | undefined;

  constructor(boundary: string) {
    this.#delimiter = enc.encode(`\r\n--${boundary}`);
  }

  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    if (!this.#started) {
      this.#head.push(chunk);
      this.#headBytes += chunk.byteLength;
      const head = concatBytes(this.#head);
      const start = this.#parseHead(head);
      if (start === undefined) {
        if (this.#headBytes > BODY_KEEP_LIMIT) this.#failed = true;
        return;
      }
      this.#started = true;
      this.#head = [];
      chunk = head.subarray(start);
    }
    // Hold back enough bytes to spot the closing delimiter when the body ends.
    const keep = this.#delimiter.byteLength + 8;
    const joined = concatBytes([this.#tail, chunk]);
    const emit = Math.max(0, joined.byteLength - keep);
    if (emit > 0) {
      this.#hash.update(joined.subarray(0, emit));
      this.#size += emit;
    }
    this.#tail = joined.slice(emit);
  }

  finish(): { metadata: string; mimeType?: string; size: number; sha256Hex: string } | null {
    if (!this.#started || this.#failed) return null;
    const end = lastIndexOf(this.#tail, this.#delimiter);
    if (end < 0) return null;
    this.#hash.update(this.#tail.subarray(0, end));
    this.#size += end;
    const result: { metadata: string; mimeType?: string; size: number; sha256Hex: string } = {
      metadata: this.metadata,
      size: this.#size,
      sha256Hex: this.#hash.digest("hex"),
    };
    if (this.mimeType) result.mimeType = this.mimeType;
    return result;
  }

  /** Returns where the media bytes start, once both part headers have arrived. */
  #parseHead(head: Uint8Array): number | undefined {
    const text = new TextDecoder("latin1").decode(head);
    const boundary = new TextDecoder().decode(this.#delimiter.subarray(2));
    const first = text.indexOf(boundary);
    if (first < 0) return undefined;
    const metaStart = text.indexOf("\r\n\r\n", first);
    if (metaStart < 0) return undefined;
    const metaEnd = text.indexOf(`\r\n${boundary}`, metaStart + 4);
    if (metaEnd < 0) return undefined;
    const mediaHeadersEnd = text.indexOf("\r\n\r\n", metaEnd + 2);
    if (mediaHeadersEnd < 0) return undefined;
    this.metadata = text.slice(metaStart + 4, metaEnd);
    const mediaHeaders = text.slice(metaEnd, mediaHeadersEnd);
    this.mimeType = /content-type:\s*([^\r\n;]+)/i.exec(mediaHeaders)?.[1]?.trim();
    return mediaHeadersEnd + 4;
  }
}

function lastIndexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = haystack.byteLength - needle.byteLength; i >= 0; i--) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------------------------

function wantsInteractionStream(req: Request, body: unknown): boolean {
  return (req.headers.get("accept") ?? "").includes("text/event-stream") ||
    asObj(body)?.stream === true;
}

function interaction(ctx: Ctx): Reply {
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const body = parsed.value;
  const model = stripModelPrefix(asStr(body.model) ?? "gemini-2.5-flash");
  const input = typeof body.input === "string"
    ? body.input
    : asArr(body.input).map((c) => partsText(asObj(c) ?? {})).join(" ");
  const text = `Echo: ${input}`;
  const inTokens = countFakeTokens(input);
  const outTokens = countFakeTokens(text);
  const created = now();
  const id = `v1_${randomId(24)}`;
  const result: Json = {
    id,
    model,
    object: "interaction",
    status: "completed",
    created,
    updated: created,
    role: "model",
    outputs: [{ type: "text", text }],
    usage: {
      total_input_tokens: inTokens,
      total_output_tokens: outTokens,
      total_tokens: inTokens + outTokens,
    },
  };
  ctx.st.interactions.set(id, { owner: ctx.key, resource: result });
  if (!wantsInteractionStream(ctx.req, body)) return jsonReply(result);
  const words = text.match(/\s*\S+/g) ?? [text];
  const events = [
    { event_type: "interaction.start", interaction: { id: result.id, status: "in_progress" } },
    ...words.map((w) => ({
      event_type: "content.delta",
      index: 0,
      delta: { type: "text", text: w },
    })),
    { event_type: "interaction.complete", interaction: result },
  ];
  const pieces = events.map((e) => `data: ${JSON.stringify(e)}\n\n`);
  const st = ctx.st;
  return { status: 200, contentType: SSE_TYPE, chunks: (signal) => paced(st, signal, pieces) };
}

// ---------------------------------------------------------------------------------------------
// OpenAI-compatible endpoints
// ---------------------------------------------------------------------------------------------

function serveOpenAi(ctx: Ctx, rest: string): Reply {
  const { req } = ctx;
  if (req.method === "GET" && rest === "models") {
    return openAiJson({
      object: "list",
      data: MODELS.map((m) => ({ id: `models/${m.id}`, object: "model", owned_by: "google" })),
    });
  }
  const one = /^models\/(.+)$/.exec(rest);
  if (req.method === "GET" && one) {
    const id = stripModelPrefix(one[1] ?? "");
    if (!findModel(id)) return errorReply(ctx, modelNotFound(id, "v1beta", "get"));
    return openAiJson({ id: `models/${id}`, object: "model", owned_by: "google" });
  }
  if (req.method !== "POST") return errorReply(ctx, notFound());
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, gError(400, "INVALID_ARGUMENT", parsed.error.message));
  const body = parsed.value;
  switch (rest) {
    case "chat/completions":
      return openAiChat(ctx, body);
    case "embeddings":
      return openAiEmbeddings(ctx, body);
    case "images/generations": {
      const n = Number(body.n) || 1;
      return openAiJson({
        created: Math.floor(Date.now() / 1000),
        data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG })),
      });
    }
    default:
      return errorReply(ctx, notFound());
  }
}

function openAiJson(value: unknown): Reply {
  return { status: 200, contentType: "application/json", body: JSON.stringify(value) };
}

function openAiModel(body: Json, capability: string): string | GoogleError {
  const raw = asStr(body.model);
  if (!raw) return gError(400, "INVALID_ARGUMENT", "model is not specified");
  const id = stripModelPrefix(raw);
  if (!findModel(id)?.methods.includes(capability)) return modelNotFound(id, "v1main", capability);
  return id;
}

function messageText(message: Json): string {
  const content = message.content;
  if (typeof content === "string") return content;
  return asArr(content)
    .map((p) => asObj(p))
    .filter((p) => p?.type === "text")
    .map((p) => asStr(p?.text) ?? "")
    .join(" ");
}

function openAiChat(ctx: Ctx, body: Json): Reply {
  const model = openAiModel(body, "generateContent");
  if (typeof model !== "string") return errorReply(ctx, model);
  const messages = asArr(body.messages).map((m) => asObj(m) ?? {});
  if (messages.length === 0) {
    return errorReply(ctx, gError(400, "INVALID_ARGUMENT", "messages must not be empty"));
  }
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const reply = `Echo: ${lastUser ? messageText(lastUser) : ""}`;
  const prompt = countFakeTokens(messages.map(messageText).join(" "));
  const completion = countFakeTokens(reply);
  const usage = {
    completion_tokens: completion,
    prompt_tokens: prompt,
    total_tokens: prompt + completion,
  };
  const id = randomId(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  const created = Math.floor(Date.now() / 1000);
  if (body.stream !== true) {
    return openAiJson({
      choices: [{
        finish_reason: "stop",
        index: 0,
        message: { content: reply, role: "assistant" },
      }],
      created,
      id,
      model,
      object: "chat.completion",
      usage,
    });
  }
  const includeUsage = asObj(body.stream_options)?.include_usage === true;
  const words = reply.match(/\s*\S+/g) ?? [reply];
  const count = ctx.st.streamChunks;
  const chunks = Array.from({ length: count }, (_, i) => {
    const text = words.slice(
      Math.ceil((i * words.length) / count),
      Math.ceil(((i + 1) * words.length) / count),
    )
      .join("");
    const last = i === count - 1;
    const choice: Json = { delta: { content: text, role: "assistant" }, index: 0 };
    if (last) choice.finish_reason = "stop";
    const chunk: Json = { choices: [choice], created, id, model, object: "chat.completion.chunk" };
    // As OpenAI does: with include_usage every chunk carries `usage: null`, and the totals come
    // in one more chunk with no choices; without it, no chunk has a usage field.
    if (includeUsage) chunk.usage = null;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  });
  if (includeUsage) {
    const chunk = { choices: [], created, id, model, object: "chat.completion.chunk", usage };
    chunks.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  const cut = ctx.cut;
  const sent = cut ? chunks.slice(0, Math.max(0, cut.afterChunks)) : chunks;
  let tail = "data: [DONE]\n\n";
  if (cut) {
    tail = cut.error
      ? pretty({
        error: failureError(
          cut.error === 429 ? { kind: "quota", scope: "minute" } : { kind: "status", code: 503 },
          model,
          "GenerativeService.StreamGenerateContent",
        ),
      })
      : "";
  }
  const st = ctx.st;
  return { status: 200, contentType: SSE_TYPE, chunks: (signal) => paced(st, signal, sent, tail) };
}

function openAiEmbeddings(ctx: Ctx, body: Json): Reply {
  const model = openAiModel(body, "embedContent");
  if (typeof model !== "string") return errorReply(ctx, model);
  const inputs = typeof body.input === "string" ? [body.input] : asArr(body.input).map(String);
  const dims = Number(body.dimensions) || 8;
  // encoding_format is ignored: floats come back even when the OpenAI SDK asks for base64 (its
  // default), and the SDK accepts float arrays either way.
  const data = inputs.map((text, index) => ({
    object: "embedding",
    index,
    embedding: fakeEmbedding(text, dims),
  }));
  const tokens = countFakeTokens(inputs.join(" "));
  return openAiJson({
    object: "list",
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// ---------------------------------------------------------------------------------------------
// Live API (WebSocket)
// ---------------------------------------------------------------------------------------------

/** WebSocket close reasons are capped at 123 bytes. */
function closeReason(message: string): string {
  let out = message;
  while (enc.encode(out).byteLength > 123) out = out.slice(0, -1);
  return out;
}

function liveCloseCode(failure: Failure): number {
  switch (failure.kind) {
    case "bad_request":
      return 1007;
    case "quota":
    case "status":
    case "cut_stream":
      return 1011;
    default:
      return 1008;
  }
}

async function serveLive(ctx: Ctx, constrained: boolean): Promise<Response> {
  const { st, req, url, rec } = ctx;
  rec.body = "";
  if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
    return send(ctx, errorReply(ctx, badRequest("This endpoint only accepts WebSocket upgrades.")));
  }
  // The Live endpoint reads its credential from the query string only.
  const key = url.searchParams.get("key");
  const token = constrained ? url.searchParams.get("access_token") : null;
  ctx.key = key;
  rec.key = key;
  const wait = st.delayMs;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const { socket, response } = Deno.upgradeWebSocket(req);
  rec.responseStatus = 101;
  st.sockets.add(socket);
  const sent: string[] = [];
  let setupDone = false;

  function sendFrame(message: Json) {
    const text = JSON.stringify(message);
    sent.push(text);
    rec.responseBody = sent.join("\n");
    socket.send(text);
  }
  function closeWith(code: number, reason: string) {
    try {
      socket.close(code, closeReason(reason));
    } catch {
      // the client may have gone already
    }
  }

  socket.onopen = () => {
    if (!key && !token?.startsWith("auth_tokens/")) return closeWith(1008, UNREGISTERED);
    if (key && st.fake.validKeys.size > 0 && !st.fake.validKeys.has(key)) {
      return closeWith(1008, INVALID_KEY_MESSAGE);
    }
  };
  socket.onmessage = async (event) => {
    let message: Json | undefined;
    try {
      const data = typeof event.data === "string" ? event.data : new TextDecoder().decode(
        event.data instanceof Blob ? await event.data.arrayBuffer() : event.data,
      );
      message = asObj(JSON.parse(data));
    } catch {
      message = undefined;
    }
    if (!message) return closeWith(1007, "Invalid JSON payload received.");
    const hook = asObj(message.close);
    if (hook) return closeWith(Number(hook.code) || 1000, asStr(hook.reason) ?? "");
    if (!setupDone) {
      const setup = asObj(message.setup);
      if (!setup) return closeWith(1007, "The first message must be a setup message.");
      const model = stripModelPrefix(asStr(setup.model) ?? "");
      if (!findModel(model)?.methods.includes("bidiGenerateContent")) {
        return closeWith(
          1008,
          `models/${model} is not found for API version v1beta, or is not supported for bidiGenerateContent.`,
        );
      }
      const picked = takeFailure(st, key, model, false);
      if (picked.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, picked.delayMs));
      if (picked.failure) {
        return closeWith(
          liveCloseCode(picked.failure),
          failureError(picked.failure, model, "").message,
        );
      }
      setupDone = true;
      return sendFrame({ setupComplete: {} });
    }
    const content = asObj(message.clientContent);
    const realtime = asObj(message.realtimeInput);
    let text: string | undefined;
    let promptText = "";
    if (content && content.turnComplete !== false) {
      const turns = asArr(content.turns).map((t) => asObj(t) ?? {});
      promptText = turns.map(partsText).join(" ");
      const lastUser = [...turns].reverse().find((t) => t.role === undefined || t.role === "user");
      text = lastUser ? partsText(lastUser) : "";
    } else if (realtime && typeof realtime.text === "string") {
      text = realtime.text;
      promptText = text;
    }
    if (text === undefined) return;
    const reply = `Echo: ${text}`;
    const prompt = countFakeTokens(promptText);
    const response = countFakeTokens(reply);
    sendFrame({ serverContent: { modelTurn: { parts: [{ text: reply }] } } });
    sendFrame({
      serverContent: { turnComplete: true },
      usageMetadata: {
        promptTokenCount: prompt,
        responseTokenCount: response,
        totalTokenCount: prompt + response,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
        responseTokensDetails: [{ modality: "TEXT", tokenCount: response }],
      },
    });
  };
  socket.onerror = () => {};
  socket.onclose = () => {
    st.sockets.delete(socket);
    ctx.finish();
  };
  try {
    response.headers.set("x-fake-request-index", String(ctx.index));
  } catch {
    // some runtimes hand back immutable upgrade headers; the index is then only in `requests`
  }
  return response;
}
