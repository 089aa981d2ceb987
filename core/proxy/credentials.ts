/**
 * The client's credential: where the proxy token may be, and what never goes upstream.
 *
 * Google reads an API key from the `key` query parameter (or its `$key` system-parameter form)
 * and OAuth tokens from `access_token` and `oauth_token`. Names are compared after decoding
 * ({@linkcode readQuery}), so `%6Bey` is `key`. Every `key` and `$key` parameter is the proxy
 * token and is removed before the request goes upstream; a name that only resembles one (`KEY`,
 * `key ` with a trailing space) and the OAuth forms are refused, so no client value ever reaches
 * Google where Google might take it for a credential.
 * @module
 */
import { HttpError } from "../errors.ts";
import { type HeaderList, listedHeader } from "./headers.ts";
import { clipped, type QueryParam } from "./request_url.ts";

/** Query parameter names that carry the proxy token. */
const TOKEN_PARAMS = new Set(["key", "$key"]);
/** Google's OAuth query parameters: credentials the proxy never passes on. */
const OAUTH_PARAMS = new Set(["access_token", "oauth_token", "bearer_token"]);

/**
 * What a query parameter name means to the credential rules.
 * @param name Decoded name.
 * @returns `token` for the proxy token's places, `refused` for names Google might read as a
 * credential, null for any other parameter.
 */
export function credentialParam(name: string): "token" | "refused" | null {
  if (TOKEN_PARAMS.has(name)) return "token";
  // Case, spacing, invisible characters and the `$` prefix are not trusted to keep a name apart.
  const loose = name.toLowerCase().replace(/[\p{Cc}\p{Cf}\p{Z}\s]/gu, "").replace(/^\$+/, "");
  if (loose === "key" || OAUTH_PARAMS.has(loose)) return "refused";
  return null;
}

/**
 * Finds the client's proxy token wherever SDKs put it: `x-goog-api-key`, `?key=` (in any
 * percent-encoding, or `$key`), or `Authorization: Bearer` (the OpenAI SDK's way).
 * @param headers Request headers.
 * @param query The decoded query ({@linkcode readQuery}).
 * @returns The token, or null when none is given.
 * @throws {HttpError} 400 when two places carry different values, or a query parameter looks
 * like a credential without being the proxy token's place.
 */
export function clientCredential(
  headers: HeaderList,
  query: readonly QueryParam[],
): string | null {
  const found = new Set<string>();
  const header = listedHeader(headers, "x-goog-api-key")?.trim();
  if (header) found.add(header);
  for (const { name, value } of query) {
    const kind = credentialParam(name);
    if (kind === "refused") throw refusedParam(name);
    if (kind === "token" && value.trim()) found.add(value.trim());
  }
  const auth = listedHeader(headers, "authorization")?.trim();
  const bearer = auth?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (bearer) found.add(bearer);
  if (found.size > 1) {
    throw new HttpError(400, "Request carries different credentials in several places", {
      reason: "CONFLICTING_CREDENTIALS",
    });
  }
  const [only] = found;
  return only ?? null;
}

/**
 * The query string to send upstream: every credential parameter removed, everything else kept
 * as the client sent it, in order.
 * @param query The decoded query ({@linkcode readQuery}).
 * @returns `?a=1&b=2`, or "" when nothing is left.
 */
export function upstreamSearch(query: readonly QueryParam[]): string {
  const kept = query.filter((p) => credentialParam(p.name) === null).map((p) => p.raw);
  return kept.length ? `?${kept.join("&")}` : "";
}

function refusedParam(name: string): HttpError {
  return new HttpError(
    400,
    `Query parameter ${
      clipped(name)
    } looks like a credential: send the proxy token as key, the x-goog-api-key header or an Authorization Bearer token`,
    { reason: "CREDENTIAL_PARAMETER_REFUSED" },
  );
}
