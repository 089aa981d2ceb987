/**
 * The fake's server: it records each request, reads its body (uploads hashed as they stream),
 * checks the credential and the failure rules as Google checks identity first, then routes to
 * the Live socket, the OpenAI-compatible routes, uploads or the native REST API.
 * @module
 */

import { createHandle, readBody, recordRequest, takeFailure } from "./control.ts";
import { errorReply, failureError, gError, rpcName, unauthenticated } from "./errors.ts";
import { serveUpload, type UploadIntake, uploadIntake } from "./files.ts";
import { serveLive } from "./live.ts";
import { serveNative } from "./native.ts";
import { serveOpenAi } from "./openai.ts";
import { wantsInteractionStream } from "./resources.ts";
import { type Ctx, type Reply, type State, UNREGISTERED, WS_PATH } from "./state.ts";
import type { FakeUpstream, FakeUpstreamOptions, RecordedRequest } from "./types.ts";
import { asObj, stripModelPrefix, tryParse } from "./util.ts";
import { send } from "./wire.ts";

const OPENAI_PREFIX = "/v1beta/openai/";

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
  st.fake = createHandle(st, port, () => server.shutdown());
  return Promise.resolve(st.fake);
}

async function handleRequest(st: State, req: Request): Promise<Response> {
  const ctx = recordRequest(st, req);
  try {
    return await route(ctx);
  } catch (err) {
    const message = `Fake upstream crashed: ${err instanceof Error ? err.message : String(err)}`;
    return send(ctx, errorReply(ctx, gError(500, "INTERNAL", message)));
  }
}

async function route(ctx: Ctx): Promise<Response> {
  const path = ctx.path;
  const ws = WS_PATH.exec(path);
  if (ws) return await serveLive(ctx, ws[2] === "BidiGenerateContentConstrained");

  const isOpenAi = path.startsWith(OPENAI_PREFIX);
  const upload = uploadIntake(ctx);
  await readBody(ctx, upload.sink);
  const refused = gate(ctx, isOpenAi, upload);
  if (refused) return send(ctx, refused);

  if (isOpenAi) return send(ctx, serveOpenAi(ctx, path.slice(OPENAI_PREFIX.length)));
  if (upload.match) return send(ctx, serveUpload(ctx, upload));
  return send(ctx, serveNative(ctx));
}

/**
 * What Google checks before serving: the error framing of the request's kind, its credential
 * (identity comes first), the failure rules and the valid keys. Returns the refusal, if any.
 */
function gate(ctx: Ctx, isOpenAi: boolean, upload: UploadIntake): Reply | null {
  const { st, req, url, path } = ctx;
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
  if (!upload.isChunk) {
    const auth = req.headers.get("authorization") ?? "";
    if (!isOpenAi && /^Bearer\s+/i.test(auth) && !/^Bearer\s+ya29\./i.test(auth)) {
      return errorReply(ctx, unauthenticated(path));
    }
    if (!ctx.key) return errorReply(ctx, gError(403, "PERMISSION_DENIED", UNREGISTERED));
  }

  const matchKey = upload.isChunk ? upload.session?.owner ?? ctx.key : ctx.key;
  const picked = takeFailure(st, matchKey, model, streaming);
  ctx.extraDelayMs += picked.delayMs;
  if (picked.failure?.kind === "cut_stream") {
    ctx.cut = picked.failure;
  } else if (picked.failure) {
    return errorReply(ctx, failureError(picked.failure, model, rpcName(path)));
  }
  if (!upload.isChunk && st.fake.validKeys.size > 0 && !st.fake.validKeys.has(ctx.key ?? "")) {
    return errorReply(ctx, failureError({ kind: "invalid_key" }, model, ""));
  }
  return null;
}
/** The model a request names, in its path or body. */
function modelOf(path: string, body: unknown): string | undefined {
  const fromPath = /^\/v1(?:beta|alpha)?\/(models|tunedModels)\/([^/:]+)/.exec(path);
  if (fromPath) return fromPath[1] === "models" ? fromPath[2] : `tunedModels/${fromPath[2]}`;
  const fromBody = asObj(body)?.model;
  return typeof fromBody === "string" ? stripModelPrefix(fromBody) : undefined;
}
