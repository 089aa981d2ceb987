/**
 * Sending a successful upstream answer on to the client, reading its usage on the way.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { LogRecord } from "../store/mod.ts";
import {
  finishReasonOf,
  stripUsage,
  type Usage,
  usageFromObject,
  usageOf,
  usageTap,
} from "../usage/mod.ts";
import { LOG_BODY_LIMIT, type RequestLog } from "./request_log.ts";
import type { ProxyRoute } from "./route.ts";

/** Error class of a stream that upstream broke off after the client got the first bytes. */
export const UPSTREAM_MIDSTREAM = "upstream_midstream";

/** Largest declared JSON answer read whole; larger ones stream through. */
const MAX_WHOLE_BYTES = 32 * 1024 * 1024;
const decoder = new TextDecoder();

/**
 * Relays an answer. A whole JSON answer is read at once (the runtime's fastest path; upstream
 * sends it in one go anyway); streams flow through the usage tap chunk by chunk, never held.
 * Either way the log record is completed when the last byte has passed. A stream that ends without
 * usage is flagged `usageUnknown` in its record.
 * @param log The record builder.
 * @param logBodies Which bodies are kept in logs.
 * @param ex The request's record.
 * @param route Its route.
 * @param response The upstream answer.
 * @param headers Headers for the client.
 * @param onUsage Receives the final usage (token charging, key counters).
 * @returns The response for the client.
 * @throws {HttpError} 502 when a whole answer breaks off before its end.
 */
export async function respond(
  log: RequestLog,
  logBodies: "none" | "errors" | "all",
  ex: LogRecord,
  route: ProxyRoute,
  response: Response,
  headers: Headers,
  onUsage: (usage: Usage | null) => void,
): Promise<Response> {
  const init = { status: response.status, statusText: response.statusText, headers };
  const type = headers.get("content-type") ?? "";
  if (type.includes("event-stream")) ex.stream = true;
  const flavour = route.kind === "openai" ? "openai" : "native";
  if (!response.body) {
    log.finish(ex, {});
    return new Response(null, init);
  }
  const length = Number(headers.get("content-length") ?? "0");
  if (type.includes("json") && !ex.stream && !route.stream && length <= MAX_WHOLE_BYTES) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await response.bytes() as Uint8Array<ArrayBuffer>;
    } catch (cause) {
      throw new HttpError(502, "Upstream closed the connection before its answer was complete", {
        cause,
      });
    }
    const text = decoder.decode(bytes);
    const usage = usageOf(text, flavour);
    onUsage(usage);
    if (logBodies === "all") ex.responseBody = log.clip(text);
    log.finish(ex, {
      bytes: bytes.byteLength,
      usage,
      finishReason: finishReasonOf(text, flavour),
      midStreamError: false,
      aborted: false,
    });
    return new Response(bytes, init);
  }
  let body = watchUpstream(response.body, () => ex.errorClass = UPSTREAM_MIDSTREAM);
  let hidden: Usage | null = null;
  if (route.hideUsage && type.includes("event-stream")) {
    // The proxy asked for this usage, the client did not: it is read here and kept from the client.
    body = body.pipeThrough(stripUsage((u) => hidden = usageFromObject(u, "openai") ?? hidden));
  }
  const tap = usageTap(flavour, (result) => {
    const usage = result.usage ?? hidden;
    // A stream that ended without usage is not charged: it is flagged, never counted as 0.
    if (usage === null && ex.stream) ex.usageUnknown = true;
    onUsage(usage);
    if (result.captured !== null) ex.responseBody = log.clip(result.captured);
    log.finish(ex, { ...result, usage });
  }, {
    scan: type.includes("json") || type.includes("event-stream"),
    capture: logBodies === "all" ? LOG_BODY_LIMIT : 0,
  });
  return new Response(body.pipeThrough(tap), init);
}

/**
 * The upstream body as a stream that tells an upstream failure (a read that throws: reset,
 * truncated chunk) apart from the client leaving (a cancel, passed on to upstream). Both end the
 * usage tap the same way; only this layer knows which side broke.
 * @param body The upstream body.
 * @param onUpstreamError Called once, before the error travels on, when an upstream read fails.
 */
function watchUpstream(
  body: ReadableStream<Uint8Array>,
  onUpstreamError: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        onUpstreamError();
        controller.error(error);
        return;
      }
      if (result.done) controller.close();
      else controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
