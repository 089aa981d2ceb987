/**
 * Header rules between client, proxy and upstream.
 *
 * Headers are read with `forEach`, never `for...of`, and handed to `fetch` and `Response` as
 * plain lists of pairs, never as `Headers`: in this runtime a `Headers` iterator costs about
 * 0.7 µs per entry (`forEach` about a tenth of that), and a constructor given a `Headers`
 * walks it with that iterator.
 *
 * A client request's headers are read once ({@linkcode readHeaders}) and every stage looks at
 * that list: each `Headers.get` re-checks the name and lower-cases it (the commonest names also
 * every entry), each `forEach` lower-cases and sorts the whole list again, and the first look
 * at a served request's headers is a call into the runtime.
 * @module
 */

/** Header name and value pairs, as `fetch` and `Response` take them without re-reading a `Headers`. */
export type HeaderList = [string, string][];

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
 * A request's headers as a list, read once: names lower-case, one entry per name (repeated
 * headers joined with `, `), sorted by name, as `forEach` gives them. Read it with
 * {@linkcode listedHeader}.
 * @param headers The request's headers.
 * @returns The list.
 */
export function readHeaders(headers: Headers): HeaderList {
  const list: HeaderList = [];
  headers.forEach((value, name) => list.push([name, value]));
  return list;
}

/**
 * Builds the headers for the upstream request from the client's.
 * @param incoming Client request headers ({@linkcode readHeaders}).
 * @param options The credential to swap in.
 * @returns New headers, as a list for `fetch`; the client's credentials never appear in them.
 */
export function upstreamHeaders(incoming: HeaderList, options: UpstreamHeaderOptions): HeaderList {
  const out: HeaderList = [];
  for (const entry of incoming) {
    const name = entry[0];
    if (HOP_BY_HOP.has(name) || DROP_TO_UPSTREAM.has(name)) continue;
    if (name.startsWith("sec-") || name.startsWith("cf-") || name.startsWith("x-stainless-retry")) {
      continue;
    }
    // The entry itself: fetch only reads it.
    out.push(entry);
  }
  if (options.bearer) out.push(["authorization", `Bearer ${options.apiKey}`]);
  else out.push(["x-goog-api-key", options.apiKey]);
  if (options.cfAigToken) out.push(["cf-aig-authorization", `Bearer ${options.cfAigToken}`]);
  return out;
}

/**
 * Builds the client response headers from the upstream's, as a list for the `Response` (see the
 * module doc): one entry per name, names lower-case.
 *
 * `fetch` has already decoded a compressed body, so `content-encoding` and `content-length` no
 * longer describe the bytes relayed and are dropped.
 * @param upstream Upstream response headers.
 */
export function clientHeaders(upstream: Headers): HeaderList {
  const kept: HeaderList = [];
  // `forEach` gives names sorted, so `content-encoding` comes before `content-length`: one pass
  // knows whether the body was decoded (no `has`, which builds another index of the list).
  let decoded = false;
  upstream.forEach((value, name) => {
    if (name === "content-encoding") decoded = true;
    if (name === "content-length" && !decoded) {
      kept.push([name, value]);
      return;
    }
    if (HOP_BY_HOP.has(name) || name === "content-encoding" || name === "set-cookie") return;
    if (name === "alt-svc") return;
    kept.push([name, value]);
  });
  return kept;
}

/**
 * A header's value in a list (names lower-case, one entry per name, as `forEach` gives them).
 * @param list The headers.
 * @param name Lower-case name.
 * @returns The value, or null.
 */
export function listedHeader(list: HeaderList, name: string): string | null {
  for (const entry of list) if (entry[0] === name) return entry[1];
  return null;
}

/**
 * Sets a header in a list: replaces the entry of that name, or adds one.
 * @param list The headers, changed in place.
 * @param name Lower-case name.
 * @param value The value.
 */
export function setListedHeader(list: HeaderList, name: string, value: string): void {
  for (const entry of list) {
    if (entry[0] === name) {
      entry[1] = value;
      return;
    }
  }
  list.push([name, value]);
}

/**
 * Total size of the request's header block, as names plus values.
 * @param headers Request headers ({@linkcode readHeaders}).
 */
export function headerBytes(headers: HeaderList): number {
  let total = 0;
  for (const entry of headers) total += entry[0].length + entry[1].length + 4;
  return total;
}
