/**
 * The proxy token check: a presented credential against the in-memory token table.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { Registry } from "../rotation/mod.ts";
import { sha256Hex } from "../secrets/mod.ts";
import type { TokenRecord } from "../store/mod.ts";

/**
 * Checks a client's proxy token against the in-memory table.
 * @param registry The snapshot holding token hashes.
 * @param credential The presented token, or null.
 * @param now Current time (epoch ms), for expiry.
 * @returns The token's record: at once for a credential seen lately (its hash is kept), else
 * a promise of it. A refusal is always a rejected promise.
 * @throws {HttpError} 401 for a missing or unknown token, 403 for a disabled or expired one.
 */
export function checkToken(
  registry: Registry,
  credential: string | null,
  now: number,
): TokenRecord | Promise<TokenRecord> {
  if (!credential) {
    return Promise.reject(
      new HttpError(
        401,
        "Missing proxy token: send it as the x-goog-api-key header, the key query parameter or an Authorization Bearer token",
        { reason: "PROXY_TOKEN_MISSING" },
      ),
    );
  }
  const cached = hashes.get(credential);
  if (cached === undefined) return hashOf(credential).then((hash) => tokenOf(registry, hash, now));
  try {
    return tokenOf(registry, cached, now);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The token a hash names, if it may be used now. */
function tokenOf(registry: Registry, hash: string, now: number): TokenRecord {
  const token = registry.tokenByHash(hash);
  if (!token) {
    throw new HttpError(401, "Proxy token is not valid", { reason: "PROXY_TOKEN_INVALID" });
  }
  if (!token.enabled) {
    throw new HttpError(403, `Proxy token "${token.name}" is disabled`, {
      reason: "PROXY_TOKEN_DISABLED",
    });
  }
  if (token.expiresAt !== undefined && token.expiresAt <= now) {
    throw new HttpError(403, `Proxy token "${token.name}" has expired`, {
      reason: "PROXY_TOKEN_EXPIRED",
    });
  }
  return token;
}

/** Hashes of recently seen credentials: hashing every request costs more than a map lookup. */
const hashes = new Map<string, string>();
const HASH_CACHE_LIMIT = 10_000;
/** Longest credential cached (proxy tokens are under 100 characters). */
const HASH_CACHE_MAX_CHARS = 256;

async function hashOf(credential: string): Promise<string> {
  const hash = await sha256Hex(credential);
  // Bounded in count and size: a flood of random or huge credentials cannot grow it far.
  if (credential.length > HASH_CACHE_MAX_CHARS) return hash;
  if (hashes.size >= HASH_CACHE_LIMIT) hashes.clear();
  hashes.set(credential, hash);
  return hash;
}
