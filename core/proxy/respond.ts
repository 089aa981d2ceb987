/**
 * Sending a successful upstream answer on to the client, reading its usage on the way.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { LogRecord } from "../store/mod.ts";
import {
  createUsageReader,
  createUsageStripper,
  finishReasonOf,
  type Usage,
  usageFromObject,
  usageOf,
} from "../usage/mod.ts";
import { type HeaderList, listedHeader } from "./headers.ts";
import { LOG_BODY_LIMIT, type RequestLog } from "./request_log.ts";
import type { ProxyRoute } from "./route.ts";
import { relayStream } from "./stream_relay.ts";

/** Error class of a stream that upstream broke off after the client got the first bytes. */
export const UPSTREAM_MIDSTREAM = "upstream_midstream";

/** Largest declared JSON answer read whole; larger ones stream through. */
const MAX_WHOLE_BYTES = 32 * 1024 * 1024;
const decoder = new TextDecoder();

/** Where an answer is relayed from: the request's record and how bodies are kept. */
export interface RelayTarget {
  /** The record builder. */
  log: RequestLog;
  /** Which bodies are kept in logs. */
  logBodies: "none" | "errors" | "all";
  /** The request's record. */
  record: LogRecord;
  /** Its route. */
  route: ProxyRoute;
}

/** The answer {@linkcode respond} relays. */
export interface RelayedAnswer {
  /** The upstream answer. */
  response: Response;
  /** Headers for the client (`clientHeaders`). */
  headers: HeaderList;
  /** Receives the final usage (token charging, key counters). */
  onUsage: (usage: Usage | null) => void;
}

/**
 * Relays an answer. A whole JSON answer is read at once (the runtime's fastest path; upstream
 * sends it in one go anyway); streams flow through one relay layer chunk by chunk, never held.
 * Either way the log record is completed when the last byte has passed. A stream that ends without
 * usage is flagged `usageUnknown` in its record.
 * @param target The record builder, body policy, record and route.
 * @param answer The upstream answer, the client's headers and the usage hook.
 * @returns The response for the client: at once for a stream, a promise for a whole answer (no
 *   promise where none is needed: each costs an allocation and a turn of the microtask queue).
 * @throws {HttpError} 502 when a whole answer breaks off before its end.
 */
export function respond(
  target: RelayTarget,
  answer: RelayedAnswer,
): Response | Promise<Response> {
  const { record, route, log } = target;
  const { response, headers } = answer;
  const type = listedHeader(headers, "content-type") ?? "";
  if (type.includes("event-stream")) record.stream = true;
  if (!response.body) {
    log.finish(record, {});
    return new Response(null, clientInit(answer));
  }
  const length = Number(listedHeader(headers, "content-length") ?? "0");
  if (type.includes("json") && !record.stream && !route.stream && length <= MAX_WHOLE_BYTES) {
    return respondWhole(target, answer);
  }
  return respondStream(target, { ...answer, body: response.body, type });
}

/** A whole JSON answer, read at once. */
async function respondWhole(target: RelayTarget, answer: RelayedAnswer): Promise<Response> {
  const { record, route, log } = target;
  const { response } = answer;
  const flavour = route.kind === "openai" ? "openai" : "native";
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
  answer.onUsage(usage);
  if (target.logBodies === "all") record.responseBody = log.clip(text);
  log.finish(record, {
    bytes: bytes.byteLength,
    usage,
    finishReason: finishReasonOf(text, flavour),
    midStreamError: false,
    aborted: false,
  });
  return new Response(bytes, clientInit(answer));
}

/** A stream (or a large answer), relayed chunk by chunk through one layer that reads usage. */
function respondStream(
  target: RelayTarget,
  answer: RelayedAnswer & { body: ReadableStream<Uint8Array>; type: string },
): Response {
  const { record, route, log } = target;
  const { type } = answer;
  const flavour = route.kind === "openai" ? "openai" : "native";
  let hidden: Usage | null = null;
  // The proxy asked for this usage, the client did not: it is read here and kept from the client.
  const stripper = route.hideUsage && type.includes("event-stream")
    ? createUsageStripper((u) => hidden = usageFromObject(u, "openai") ?? hidden)
    : undefined;
  const reader = createUsageReader(flavour, (result) => {
    const usage = result.usage ?? hidden;
    // A stream that ended without usage is not charged: it is flagged, never counted as 0.
    if (usage === null && record.stream) record.usageUnknown = true;
    answer.onUsage(usage);
    if (result.captured !== null) record.responseBody = log.clip(result.captured);
    log.finish(record, { ...result, usage });
  }, {
    scan: type.includes("json") || type.includes("event-stream"),
    capture: target.logBodies === "all" ? LOG_BODY_LIMIT : 0,
  });
  // Only this layer tells an upstream failure (a read that throws: reset, truncated chunk) apart
  // from the client leaving (a cancel, passed on to upstream).
  const body = relayStream(answer.body, {
    reader,
    stripper,
    onUpstreamError: () => record.errorClass = UPSTREAM_MIDSTREAM,
  });
  return new Response(body, clientInit(answer));
}

/** The client response's status and headers: upstream's status, the headers kept for the client. */
function clientInit(answer: RelayedAnswer): ResponseInit {
  const { response, headers } = answer;
  return { status: response.status, statusText: response.statusText, headers };
}
