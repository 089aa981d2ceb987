/**
 * Secrets of proxy tokens: generated with a CSPRNG, shown once, stored only as a SHA-256 hash.
 * @module
 */
import { maskSecret, randomSecret, sha256Hex } from "./secrets.ts";

/** Prefix of every generated token, so leaked ones are recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = "gp-";

/** A freshly generated secret and what the store keeps of it. */
export interface IssuedSecret {
  /** The secret itself: returned to the admin once, never stored. */
  secret: string;
  /** Hex SHA-256 of the secret: what the store keeps. */
  hash: string;
  /** Masked form for display. */
  masked: string;
}

/**
 * Generates a token secret: `gp-` and 192 random bits in URL-safe base64.
 * @param random Secret generator (default: WebCrypto's CSPRNG).
 * @returns The secret, its hash and its masked form.
 */
export async function issueTokenSecret(
  random: () => string = () => randomSecret(TOKEN_PREFIX, 24),
): Promise<IssuedSecret> {
  const secret = random();
  return { secret, hash: await sha256Hex(secret), masked: maskSecret(secret) };
}

/**
 * A new token id: random, stable across secret rotations, not derived from the secret.
 * @returns e.g. `t_5f0c9a1e2b7d4c38`.
 */
export function newTokenId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return "t_" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
