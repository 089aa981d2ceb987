/**
 * Controlling the fake and recording what it sees: failure rules (which key, model and how many
 * times), stream holds, and the record of every request with its body and credential.
 * @module
 */

import { BODY_KEEP_LIMIT, type Ctx, type Hold, type Rule, type State } from "./state.ts";
import type { Failure, FakeUpstream, RecordedRequest } from "./types.ts";
import { concatBytes, stripModelPrefix } from "./util.ts";

/**
 * Records a request as it arrives and returns the context its handler works in.
 * @param st The fake's state.
 * @param req The request.
 */
export function recordRequest(st: State, req: Request): Ctx {
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
  return {
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

/** Reads the request body into the record (kept up to 1 MiB), handing every chunk to `sink`. */
export async function readBody(ctx: Ctx, sink?: (chunk: Uint8Array) => void): Promise<void> {
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

/**
 * Adds a failure rule.
 * @param st The fake's state.
 * @param key The key it applies to, or null for every key.
 * @param failure What to send.
 * @param opts The model it is limited to, and how many requests fail (default: forever).
 */
export function addRule(
  st: State,
  key: string | null,
  failure: Failure,
  opts?: { model?: string; times?: number },
): void {
  const rule: Rule = { key, failure, remaining: opts?.times ?? Infinity };
  if (opts?.model !== undefined) rule.model = stripModelPrefix(opts.model);
  st.rules.push(rule);
}

/**
 * Picks the failure the next request of this key and model gets, counting it down; the delays
 * of slow_first_byte rules it passes are summed.
 */
export function takeFailure(
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

/**
 * Holds every stream before it sends chunk `index` until released.
 * @param st The fake's state.
 * @param index 0-based chunk index.
 */
export function holdStreamChunk(
  st: State,
  index: number,
): { reached: Promise<void>; release(): void } {
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
}

/** Releases every hold and forgets them. */
export function releaseAll(st: State): void {
  for (const hold of st.holds) {
    hold.isReleased = true;
    hold.released.resolve();
  }
  st.holds = [];
}

/** Waits at every unreleased hold on chunk `index` until it is released or the client leaves. */
export async function passHolds(st: State, index: number, signal: AbortSignal): Promise<void> {
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

/**
 * The handle tests hold on a running fake: its failure rules, holds, valid keys and records.
 * @param st The fake's state.
 * @param port The port it listens on.
 * @param shutdown Stops its server.
 */
export function createHandle(
  st: State,
  port: number,
  shutdown: () => Promise<void>,
): FakeUpstream {
  let closed = false;
  const fake: FakeUpstream = {
    url: st.url,
    port,
    requests: st.requests,
    validKeys: new Set<string>(),
    failFor(key, failure, opts) {
      addRule(st, key, failure, opts);
    },
    failAll(failure, opts) {
      addRule(st, null, failure, opts);
    },
    holdStreamChunk(index) {
      return holdStreamChunk(st, index);
    },
    reset() {
      st.requests.length = 0;
      st.rules = [];
      releaseAll(st);
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
      releaseAll(st);
      for (const socket of st.sockets) {
        try {
          socket.close(1001, "Fake upstream shutting down");
        } catch {
          // already closing
        }
      }
      await shutdown();
    },
  };
  return fake;
}
