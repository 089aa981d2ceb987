/**
 * The record kept for every proxied request.
 * @module
 */
import type { Usage } from "../usage/mod.ts";

/**
 * The kinds of Gemini call the proxy tells apart: `native` REST, the `openai` compatibility
 * layer, an `upload` start, an `upload_chunk` of a started session, a `live` WebSocket.
 */
export type RouteKind = "native" | "openai" | "upload" | "upload_chunk" | "live";

/** One try of a request on one key. */
export interface AttemptRecord {
  /** Key id. */
  keyId: string;
  /** Masked key. */
  keyMasked: string;
  /** Upstream status (0 when no answer came). */
  status: number;
  /** Error class, when the try failed. */
  errorClass: string | null;
  /** Time until upstream headers (or failure), ms. */
  durationMs: number;
  /** When the try started, ms after the request began (absent in records of older versions). */
  startMs?: number;
}

/** A request log record. Never holds a secret: keys are masked, tokens named by id and name. */
export interface LogRecord {
  /** Request id, time-ordered; also sent to the client as `x-request-id`. */
  id: string;
  /** Start time (epoch ms). */
  time: number;
  /** HTTP method. */
  httpMethod: string;
  /** Path as sent upstream (no query). */
  path: string;
  /** Client token id and name, once authenticated. */
  tokenId: string | null;
  tokenName: string | null;
  /** Model, when the request names one. */
  model: string | null;
  /** API method: `generateContent`, `streamGenerateContent`, `chat/completions`, `upload`... */
  method: string;
  /** `native`, `openai`, `upload`, `live`. */
  flavour: string;
  /** Whether the response was a stream. */
  stream: boolean;
  /** Final status sent to the client. */
  status: number;
  /** Class of the final error, when there was one. */
  errorClass: string | null;
  /** Every try, in order. */
  attempts: AttemptRecord[];
  /** The key that produced the final answer. */
  keyId: string | null;
  keyMasked: string | null;
  /** Time from start until upstream response headers, ms. */
  ttfbMs: number | null;
  /** Time from start until the last byte went to the client, ms. */
  durationMs: number;
  /** Request body bytes. */
  bytesIn: number;
  /** Response body bytes. */
  bytesOut: number;
  /** Token usage from usageMetadata / OpenAI usage. */
  usage: Usage | null;
  /** A successful stream ended without usage: its tokens are unknown (not charged, not 0). */
  usageUnknown?: boolean;
  /**
   * What the request cost, in whole µUSD (1 USD = 1,000,000), at the prices in effect when it
   * ended; 0 for calls Google does not bill. Absent when the cost is unknown.
   */
  costMicros?: number;
  /** The cost is unknown: the model has no price, or a billed call ended without usage. */
  costUnknown?: boolean;
  /** Last finish reason seen. */
  finishReason: string | null;
  /** A stream that ended without a finish reason or with an error after success began. */
  truncated: boolean;
  /** Region serving the request. */
  region: string | null;
  /** Client user agent. */
  userAgent: string | null;
  /**
   * Client address: the socket's peer, or the `X-Forwarded-For` entry `TRUST_PROXY` trusts.
   * Admin answers show it masked (`/24`, `/48`) unless asked to reveal it.
   */
  client?: string | null;
  /**
   * Regional failover: the fallback deployment (origin) this request was relayed to, or null when
   * a relay was tried and no fallback could be reached. Absent when no relay was tried.
   */
  relayedTo?: string | null;
  /** Why the request was relayed: upstream refused the location, or the colo is blocked. */
  relayReason?: "location" | "blocked_colo";
  /** Region of the deployment that relayed this request here, when it arrived as a relay. */
  relayedFrom?: string;
  /** Redacted, truncated request body (LOG_BODIES). */
  requestBody?: string;
  /** Redacted, truncated response body (LOG_BODIES). */
  responseBody?: string;
}

let sequence = 0;
/** Random per process, so that ids from several processes do not collide (made on first use:
 * Workers forbid random values at start-up). */
let processTag = "";
/**
 * A request id that sorts by time: 9 base-36 characters of milliseconds, a per-process sequence,
 * and a random per-process tag.
 * @param now Epoch ms.
 */
export function requestId(now: number): string {
  if (!processTag) {
    processTag = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => (b % 36).toString(36))
      .join("");
  }
  sequence = (sequence + 1) % 46_656;
  return now.toString(36).padStart(9, "0") + sequence.toString(36).padStart(3, "0") + processTag;
}
