/**
 * Header rules between client, proxy and upstream.
 * @module
 */

/** Hop-by-hop headers (RFC 9110 7.6.1) plus ones a proxy must not relay. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

/** Client headers never sent upstream: credentials, cookies, client addresses, browser metadata. */
const DROP_TO_UPSTREAM = new Set([
  "x-goog-api-key",
  "authorization",
  "cookie",
  "origin",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "accept-encoding",
  "cf-aig-authorization",
  "x-gemini-proxy-hop",
  "x-gemini-proxy-relay",
  // The key decides the project Google bills and checks; a client naming another project could
  // draw a verdict (API disabled there) that would wrongly retire the key.
  "x-goog-user-project",
]);

/**
 * Whether a client header stays with the proxy: credentials, client addresses, cookies, browser
 * and Cloudflare metadata, hop-by-hop headers and the proxy's own markers.
 * @param name Lower-case header name.
 */
export function isPrivateHeader(name: string): boolean {
  return HOP_BY_HOP.has(name) || DROP_TO_UPSTREAM.has(name) || name.startsWith("sec-") ||
    name.startsWith("cf-");
}

/** Options of {@linkcode upstreamHeaders}. */
export interface UpstreamHeaderOptions {
  /** The real Gemini key. */
  apiKey: string;
  /** Send the key as `Authorization: Bearer` (OpenAI-compatible paths) instead of `x-goog-api-key`. */
  bearer: boolean;
  /** Cloudflare AI Gateway token, when the upstream is a gateway that requires one. */
  cfAigToken: string | undefined;
}

/**
 * Builds the headers for the upstream request from the client's.
 * @param incoming Client request headers.
 * @param options The credential to swap in.
 * @returns New headers; the client's credentials never appear in them.
 */
export function upstreamHeaders(incoming: Headers, options: UpstreamHeaderOptions): Headers {
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || DROP_TO_UPSTREAM.has(name)) continue;
    if (name.startsWith("sec-") || name.startsWith("cf-") || name.startsWith("x-stainless-retry")) {
      continue;
    }
    out.set(name, value);
  }
  if (options.bearer) out.set("authorization", `Bearer ${options.apiKey}`);
  else out.set("x-goog-api-key", options.apiKey);
  if (options.cfAigToken) out.set("cf-aig-authorization", `Bearer ${options.cfAigToken}`);
  return out;
}

/**
 * Builds the client response headers from the upstream's.
 *
 * `fetch` has already decoded a compressed body, so `content-encoding` and `content-length` no
 * longer describe the bytes relayed and are dropped.
 * @param upstream Upstream response headers.
 */
export function clientHeaders(upstream: Headers): Headers {
  const out = new Headers();
  const decoded = upstream.has("content-encoding");
  for (const [name, value] of upstream) {
    if (name === "content-length" && !decoded) {
      out.set(name, value);
      continue;
    }
    if (HOP_BY_HOP.has(name) || name === "content-encoding" || name === "set-cookie") continue;
    if (name === "alt-svc") continue;
    out.append(name, value);
  }
  return out;
}

/**
 * Total size of the request's header block, as names plus values.
 * @param headers Request headers.
 */
export function headerBytes(headers: Headers): number {
  let total = 0;
  for (const [name, value] of headers) total += name.length + value.length + 4;
  return total;
}
