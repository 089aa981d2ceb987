/**
 * The client's address, for request logs and the admin sign-in throttle alike: the socket's peer
 * (Cloudflare's `cf-connecting-ip` on Workers), or, behind trusted reverse proxies
 * (`TRUST_PROXY=N`), the `X-Forwarded-For` entry the nearest untrusted hop is known by; and its
 * masked form (`/24` for IPv4, `/48` for IPv6) for lists and exports.
 * @module
 */

/** Longest address kept: an IPv6 address with a zone fits easily. */
const MAX_ADDRESS = 64;

/**
 * The client address of a request.
 *
 * Each proxy appends the address it received the request from to `X-Forwarded-For`, so the
 * right-most entries are the ones trusted proxies wrote; anything to their left was sent by the
 * client and may be forged. With `trustHops` N (the number of reverse proxies in front of this
 * one), the address is the N-th entry from the right: N=1 takes the right-most entry (one proxy,
 * e.g. a load balancer), N=2 the one before it. When the header has fewer entries than N, the
 * left-most is taken (the request passed fewer proxies than configured). With N=0 the header is
 * ignored and the socket's peer is the client.
 * @param headers The request's headers.
 * @param peer The socket peer's address, when the platform tells.
 * @param trustHops `TRUST_PROXY`: how many proxies in front are trusted.
 * @returns An address, or null when none is known or it is not an IP address.
 * @example
 * ```ts
 * clientAddressOf(new Headers({ "x-forwarded-for": "6.6.6.6, 203.0.113.9" }), "10.0.0.2", 1);
 * // "203.0.113.9": the load balancer's view, not the forged "6.6.6.6"
 * ```
 */
export function clientAddressOf(
  headers: Headers,
  peer: string | null | undefined,
  trustHops: number,
): string | null {
  if (trustHops > 0) {
    const entries = (headers.get("x-forwarded-for") ?? "").split(",").map((e) => e.trim())
      .filter(Boolean);
    if (entries.length > 0) {
      const chosen = entries[Math.max(0, entries.length - trustHops)]!;
      return cleanAddress(chosen);
    }
  }
  return peer ? cleanAddress(peer) : null;
}

/** How a platform tells a request's socket peer: Deno's `remoteAddr`, Workers' header. */
export type PeerOf = (request: Request, env: unknown) => string | null | undefined;

/**
 * The peer address Deno's serve handler reports in its info argument (`remoteAddr.hostname`),
 * which the app receives as `env`; the default {@linkcode PeerOf}.
 * @param _request The request.
 * @param env The serve handler's info.
 */
export function remoteAddrPeer(_request: Request, env: unknown): string | null {
  const info = env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const hostname = info?.remoteAddr?.hostname;
  return typeof hostname === "string" && hostname.length > 0 ? hostname : null;
}

/** The client address of a request, or null when none is known. */
export type ClientOf = (request: Request, env: unknown) => string | null;

/**
 * The one function that names a request's client, used by request logs and by the sign-in
 * throttle, so both see the same address: behind a trusted reverse proxy each client is counted
 * by its own forwarded address (not the proxy's, which every admin would share), and a client
 * that writes `X-Forwarded-For` itself changes nothing unless `TRUST_PROXY` says to read it.
 * @param peerOf Reads the platform's socket peer.
 * @param trustHops Reads `TRUST_PROXY`.
 * @returns `(request, env) => address`, per {@linkcode clientAddressOf}.
 * @example
 * ```ts
 * const clientOf = clientResolver((r) => r.headers.get("cf-connecting-ip"), () => 0);
 * ```
 */
export function clientResolver(peerOf: PeerOf, trustHops: () => number): ClientOf {
  return function clientOf(request, env) {
    return clientAddressOf(request.headers, peerOf(request, env), trustHops());
  };
}

/**
 * An address with a port, brackets or zone removed, or null when it is not an IP address.
 * @param value `203.0.113.9`, `203.0.113.9:443`, `[2001:db8::1]:443`, `::ffff:1.2.3.4`...
 */
export function cleanAddress(value: string): string | null {
  // Most requests come from the address the one before came from: that answer is kept.
  if (value !== lastValue) {
    lastAddress = parseAddress(value);
    lastValue = value;
  }
  return lastAddress;
}

/** The last address {@linkcode cleanAddress} was given, and its answer. */
let lastValue: string | null = null;
let lastAddress: string | null = null;

function parseAddress(value: string): string | null {
  let v = value.trim().slice(0, MAX_ADDRESS);
  const bracketed = v.match(/^\[([0-9a-f:.]+)(?:%[\w.-]+)?\](?::\d+)?$/i);
  if (bracketed) v = bracketed[1]!;
  const v4 = v.match(/^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/i);
  if (v4) return v4[1]!.split(".").every((o) => Number(o) <= 255) ? v4[1]! : null;
  v = v.replace(/%[\w.-]+$/, "");
  return /^[0-9a-f:]+$/i.test(v) && v.includes(":") && expandIpv6(v) ? v.toLowerCase() : null;
}

/**
 * An address masked to its network: IPv4 to `/24`, IPv6 to `/48`.
 * @param address A clean address (from {@linkcode clientAddressOf}).
 * @example
 * ```ts
 * maskAddress("203.0.113.9"); // "203.0.113.0/24"
 * maskAddress("2001:db8:1:2::5"); // "2001:db8:1::/48"
 * ```
 */
export function maskAddress(address: string | null | undefined): string | null {
  if (!address) return null;
  if (address.includes(".")) {
    const octets = address.split(".");
    return octets.length === 4 ? `${octets.slice(0, 3).join(".")}.0/24` : null;
  }
  const groups = expandIpv6(address);
  if (!groups) return null;
  const head = groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, ""));
  return `${head.join(":")}::/48`;
}

/** The eight hextets of an IPv6 address, or null when it is not one. */
function expandIpv6(address: string): string[] | null {
  const halves = address.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups : null;
}
