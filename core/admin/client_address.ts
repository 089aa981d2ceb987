/**
 * Which client a request came from, for the sign-in throttle. The address itself comes from the
 * same function request logs use (`clientResolver` in `core/proxy/client_address.ts`): the socket's
 * peer (`cf-connecting-ip` on Workers), or the `X-Forwarded-For` entry `TRUST_PROXY` trusts,
 * never one a client chose. Here it becomes a throttle scope.
 * @module
 */

/** Longest address kept in a throttle scope name. */
const MAX_ADDRESS_CHARS = 64;

/**
 * The address a throttle counts by: the client's, or `unknown` when none is known (a platform
 * gateway that tells none, without `TRUST_PROXY`): every such client then shares one scope, and
 * the throttle still holds.
 * @param client The resolved client address, or null.
 */
export function throttleAddress(client: string | null | undefined): string {
  return client ? client : "unknown";
}

/**
 * The throttle scope of an address: an IPv4 address as it is (also when mapped into IPv6), an
 * IPv6 address by its /64 prefix (one host usually holds a whole /64, so counting single
 * addresses would give it billions of fresh scopes), anything else cut to a bounded length.
 * @param address A peer address.
 * @returns e.g. `203.0.113.7` or `2001:db8:0:1::/64`.
 * @example
 * ```ts
 * addressScope("2001:db8::1:2:3:4"); // "2001:db8:0:0::/64"
 * ```
 */
export function addressScope(address: string): string {
  const bare = address.replace(/^\[|\]$/g, "").split("%")[0]!.toLowerCase();
  const mapped = bare.match(/^(?:0{0,4}:){0,5}:?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (mapped) return mapped[1]!;
  if (bare.includes(":")) {
    const prefix = ipv6Prefix(bare);
    if (prefix) return `${prefix}::/64`;
  }
  return bare.slice(0, MAX_ADDRESS_CHARS) || "unknown";
}

/** The first four groups of an IPv6 address, normalised; null when it is not one. */
function ipv6Prefix(address: string): string | null {
  if (!/^[0-9a-f:.]+$/.test(address)) return null;
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const groups = (text: string | undefined) =>
    text ? text.split(":").flatMap((g) => g.includes(".") ? ["0", "0"] : [g]) : [];
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":");
}
