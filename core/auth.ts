import { HttpError } from "./errors.ts";
import type { Registry } from "./registry.ts";
import { sha256Hex } from "./secrets.ts";
import type { TokenRecord } from "./store/store.ts";

/**
 * Checks a client's proxy token against the in-memory table.
 * @param registry The snapshot holding token hashes.
 * @param credential The presented token, or null.
 * @param now Current time (epoch ms), for expiry.
 * @returns The token's record.
 * @throws {HttpError} 401 for a missing or unknown token, 403 for a disabled or expired one.
 */
export async function authenticate(
  registry: Registry,
  credential: string | null,
  now: number,
): Promise<TokenRecord> {
  if (!credential) {
    throw new HttpError(
      401,
      "Missing proxy token: send it as the x-goog-api-key header, the key query parameter or an Authorization Bearer token",
      { reason: "PROXY_TOKEN_MISSING" },
    );
  }
  const token = registry.tokenByHash(await hashOf(credential));
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
  const cached = hashes.get(credential);
  if (cached !== undefined) return cached;
  const hash = await sha256Hex(credential);
  // Bounded in count and size: a flood of random or huge credentials cannot grow it far.
  if (credential.length > HASH_CACHE_MAX_CHARS) return hash;
  if (hashes.size >= HASH_CACHE_LIMIT) hashes.clear();
  hashes.set(credential, hash);
  return hash;
}
