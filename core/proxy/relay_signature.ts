/**
 * The signature between deployments that relay to each other: HMAC-SHA256 under the shared
 * `RELAY_SECRET` over the time, the origin region, the method, path and query and the SHA-256 of
 * the body, carried in one header (`v1;t=<ms>;from=<region>;body=<sha256>;sig=<hmac>`).
 * @module
 */

/** What a relay signature covers. */
export interface SignedRequest {
  /** When it was signed (epoch ms, as text). */
  t: string;
  /** The relaying deployment's region (see {@linkcode regionLabel}). */
  from: string;
  /** HTTP method. */
  method: string;
  /** Gemini API path. */
  path: string;
  /** Query string with its `?`, or empty. */
  search: string;
  /** Base64url SHA-256 of the body. */
  bodyHash: string;
}

/**
 * The text a relay signature signs.
 * @param request The signed parts.
 */
export function signaturePayload(request: SignedRequest): string {
  const { t, from, method, path, search, bodyHash } = request;
  return ["v1", t, from, method.toUpperCase(), path, search, bodyHash].join("\n");
}

/**
 * Signs with the shared secret; the key is imported once, at the first signature.
 * @param secret `RELAY_SECRET`.
 * @returns A function from a payload to its base64url HMAC-SHA256.
 */
export function relaySigner(secret: string): (payload: string) => Promise<string> {
  let hmacKey: Promise<CryptoKey> | null = null;
  return function sign(payload) {
    hmacKey ??= crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return hmacKey.then(async (key) =>
      base64url(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)))
    );
  };
}

/**
 * The fields of a relay header, or null when it is not a complete `v1` header.
 * @param header The header's value.
 */
export function parseRelayHeader(header: string): Record<string, string> | null {
  const [version, ...parts] = header.split(";").map((p) => p.trim());
  if (version !== "v1") return null;
  const fields: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const complete = ["t", "from", "body", "sig"].every((name) => fields[name]);
  return complete ? fields : null;
}

/**
 * A region name safe to put in a header.
 * @param region The region, if known.
 */
export function regionLabel(region: string | null): string {
  return region && /^[\w.-]{1,64}$/.test(region) ? region : "unknown";
}

/**
 * The base64url SHA-256 of a body (of an empty one when there is none).
 * @param body The body's bytes.
 */
export async function sha256(body: Uint8Array<ArrayBuffer> | Uint8Array | null): Promise<string> {
  const bytes = body ?? new Uint8Array(0);
  return base64url(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

function base64url(buffer: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
