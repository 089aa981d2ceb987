/**
 * Which side an error class belongs to, so that the console can tell a client's mistakes (a bad
 * token, a limit, a malformed request) from the keys' troubles (quota, invalid keys) and from
 * Google's or the network's failures.
 * @module
 */

/** The side an error belongs to. */
export type ErrorGroup = "client" | "keys" | "upstream" | "proxy";

/** Every error class the proxy records, with its side and a short explanation. */
export const ERROR_CLASSES: Readonly<Record<string, { group: ErrorGroup; label: string }>> = {
  auth: { group: "client", label: "missing or bad proxy token" },
  token_quota: { group: "client", label: "a proxy token's limit or allow-list" },
  too_large: { group: "client", label: "request too large" },
  client_error: { group: "client", label: "request refused as invalid (4xx)" },
  client_cancelled: { group: "client", label: "client went away" },
  quota_minute: { group: "keys", label: "a key's per-minute quota" },
  quota_day: { group: "keys", label: "a key's daily quota" },
  key_invalid: { group: "keys", label: "key invalid" },
  key_forbidden: { group: "keys", label: "key forbidden" },
  keys_exhausted: { group: "keys", label: "every key cooling" },
  no_keys: { group: "keys", label: "no usable key" },
  upstream_unavailable: { group: "upstream", label: "Google unavailable (5xx)" },
  timeout: { group: "upstream", label: "upstream timeout" },
  network: { group: "upstream", label: "upstream unreachable" },
  upstream_midstream: { group: "upstream", label: "upstream broke off a stream" },
  mid_stream_error: { group: "upstream", label: "error inside a stream" },
  location: { group: "upstream", label: "location not supported" },
  relay: { group: "upstream", label: "regional relay failed" },
  internal: { group: "proxy", label: "internal proxy error" },
};

/** The groups in display order, with their names. */
export const ERROR_GROUPS: readonly { id: ErrorGroup; label: string }[] = [
  { id: "client", label: "Client side (auth, limits, bad requests)" },
  { id: "keys", label: "Keys (quota, invalid keys)" },
  { id: "upstream", label: "Google and network" },
  { id: "proxy", label: "Proxy" },
];

/**
 * The side of an error class; classes this version does not know count as upstream.
 * @param errorClass A recorded error class.
 * @example
 * ```ts
 * errorGroupOf("auth"); // "client"
 * ```
 */
export function errorGroupOf(errorClass: string): ErrorGroup {
  return Object.hasOwn(ERROR_CLASSES, errorClass) ? ERROR_CLASSES[errorClass]!.group : "upstream";
}
