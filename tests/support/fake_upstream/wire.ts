/**
 * How the fake writes its answers: Google's headers, gzip, the configured delays, and streams
 * written one chunk at a time, honouring holds, with the record learning what was sent and
 * whether the client left.
 * @module
 */

import { passHolds } from "./control.ts";
import { badRequest, invalidJson } from "./errors.ts";
import {
  type Ctx,
  enc,
  type GoogleError,
  type Json,
  JSON_TYPE,
  type Reply,
  SSE_TYPE,
  type State,
} from "./state.ts";
import { asObj } from "./util.ts";

/**
 * Turns a reply into a Response with Google's headers, after the configured delays, gzipped
 * when the client accepts it.
 */
export async function send(ctx: Ctx, reply: Reply): Promise<Response> {
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
export async function* paced(
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

/** JSON as Google pretty-prints it, with a final newline. */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** A JSON reply, pretty-printed as Google does. */
export function jsonReply(value: unknown, status = 200, headers?: Record<string, string>): Reply {
  const reply: Reply = { status, contentType: JSON_TYPE, body: pretty(value) };
  if (headers) reply.headers = headers;
  return reply;
}

/** Google's SSE lines: a space after each colon, none after commas. */
export function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Parses a request body that must be a JSON object (or empty). */
export function parseObject(
  ctx: Ctx,
): { ok: true; value: Json } | { ok: false; error: GoogleError } {
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
