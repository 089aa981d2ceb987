/**
 * Building a request's log record as the request goes: started when the route is known,
 * completed once when the last byte has been sent, then handed to the log queue and metrics.
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { HttpError } from "../errors.ts";
import type { InFlight, Logger } from "../logs/mod.ts";
import type { Registry } from "../rotation/mod.ts";
import { redact } from "../secrets/mod.ts";
import { type LogRecord, requestId } from "../store/mod.ts";
import type { TapResult } from "../usage/mod.ts";
import type { ProxyRoute } from "./route.ts";

/** Longest request or response body kept in a log record, in characters. */
export const LOG_BODY_LIMIT = 8192;

/** Options of {@linkcode createRequestLog}. */
export interface RequestLogOptions {
  /** Configuration (the region when the platform tells none). */
  config: Config;
  /** The secrets to mask in kept bodies. */
  registry: Registry;
  /** Clock (epoch ms). */
  now: () => number;
  /** Reports a failing hand-off. */
  logger: Logger;
  /** Region serving a request, when the platform tells (Cloudflare colo). */
  regionOf?: ((request: Request) => string | null | undefined) | undefined;
  /** Receives every completed record. */
  onFinish?: ((record: LogRecord) => void) | undefined;
  /** Counts records begun and not yet finished. */
  inFlight?: InFlight | undefined;
}

/** Starts, fills and completes log records. */
export interface RequestLog {
  /**
   * A fresh record for a request on a route, with the client's address as `clientAddressOf`
   * resolved it (the one the sign-in throttle counts by), when there is one, and its user agent.
   */
  begin(
    request: Request,
    route: ProxyRoute,
    arrival: { client: string | null | undefined; userAgent: string | null },
  ): LogRecord;
  /** Completes a record and hands it on; later calls for the same record do nothing. */
  finish(record: LogRecord, result: Partial<TapResult>): void;
  /** A body as kept in logs: bounded and with secrets masked. */
  clip(text: string): string;
}

/**
 * Marks a finished record: a slot on the record rather than a weak set, whose entry per request
 * would cost a hash insert and, for the garbage collector, an ephemeron to trace. Symbol keys
 * are left out of JSON and structured clones, so no store ever sees it.
 */
const FINISHED = Symbol("finished");
type Finishable = LogRecord & { [FINISHED]?: true };

/**
 * Creates the record builder.
 * @param options Configuration, clock, logger and the hand-off.
 */
export function createRequestLog(options: RequestLogOptions): RequestLog {
  return {
    begin(request, route, arrival) {
      options.inFlight?.begin();
      return newRecord(options, {
        request,
        route,
        client: arrival.client,
        userAgent: arrival.userAgent,
      });
    },
    finish(record, result) {
      const tracked = record as Finishable;
      if (tracked[FINISHED]) return;
      tracked[FINISHED] = true;
      complete(record, { result, now: options.now() });
      try {
        options.onFinish?.(record);
      } catch (error) {
        options.logger.log("warn", "log hook failed", { error });
      } finally {
        options.inFlight?.end();
      }
    },
    clip(text) {
      const bounded = text.length > LOG_BODY_LIMIT
        ? text.slice(0, LOG_BODY_LIMIT) + `... [${text.length - LOG_BODY_LIMIT} more characters]`
        : text;
      return redact(bounded, options.registry.secrets);
    },
  };
}

/** A record for a request that has just arrived. */
function newRecord(
  options: RequestLogOptions,
  arrival: {
    request: Request;
    route: ProxyRoute;
    client: string | null | undefined;
    userAgent: string | null;
  },
): LogRecord {
  const { request, route } = arrival;
  const { config } = options;
  const time = options.now();
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
    region: options.regionOf?.(request) ?? config.region ?? null,
    userAgent: arrival.userAgent,
    client: arrival.client ?? null,
  };
}

/** Fills in how a request ended. */
function complete(record: LogRecord, end: { result: Partial<TapResult>; now: number }): void {
  const { result } = end;
  record.durationMs = end.now - record.time;
  record.bytesOut = result.bytes ?? 0;
  if (result.usage) record.usage = result.usage;
  if (result.finishReason) record.finishReason = result.finishReason;
  if (result.midStreamError) record.errorClass ??= "mid_stream_error";
  if (result.aborted) record.errorClass ??= "client_cancelled";
  record.truncated = Boolean(
    result.midStreamError || result.aborted ||
      (record.stream && record.status < 400 && result.finishReason === null),
  );
}

/**
 * Notes the authenticated token on a record (id and name, never the secret).
 * @param record The record.
 * @param token The token.
 */
export function noteToken(record: LogRecord, token: { id: string; name: string }): void {
  record.tokenId = token.id;
  record.tokenName = token.name;
}

/**
 * The error class of an answer the proxy gave itself.
 * @param error The error answered.
 */
export function proxyErrorClass(error: HttpError): string {
  const reason = error.details.find((d) => d["@type"].endsWith("ErrorInfo"))?.reason;
  if (reason === "ALL_KEYS_COOLING") return "keys_exhausted";
  if (reason === "NO_USABLE_KEY") return "no_keys";
  if (typeof reason === "string" && reason.startsWith("RELAY_")) return "relay";
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
