/**
 * Secret handling: hashing of proxy tokens, encryption of Gemini keys at rest, masking and
 * redaction. Uses only WebCrypto, so it runs on every platform.
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Matches strings shaped like Gemini API keys: classic `AIza...` and newer `AQ.` keys. */
export const KEY_SHAPE = /AIza[0-9A-Za-z_\-]{30,}|AQ\.[0-9A-Za-z_\-.]{20,}/g;

/** Matches proxy tokens as this product issues them (`gp-` and at least 128 bits). */
export const TOKEN_SHAPE = /gp-[0-9A-Za-z_\-]{22,}/g;

/**
 * Hex SHA-256 of a string.
 * @param text Input text.
 * @returns 64 lower-case hex characters.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return toHex(new Uint8Array(digest));
}

/**
 * Masks a secret for display, keeping a short prefix and suffix: `AIza...x9Qk`.
 * @param secret The secret value.
 * @returns A masked form that cannot be reversed.
 */
export function maskSecret(secret: string): string {
  if (secret.length <= 12) return `${secret.slice(0, 2)}...`;
  return `${secret.slice(0, 4)}...${secret.slice(-4)}`;
}

/**
 * Replaces key-shaped strings, proxy-token-shaped strings and every given secret in `text` with
 * masked forms.
 * @param text Text that may contain secrets (a log line, an upstream body).
 * @param secrets Known secrets to hide even when they do not look like keys.
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(KEY_SHAPE, (match) => maskSecret(match))
    .replace(TOKEN_SHAPE, (match) => maskSecret(match));
  for (const secret of secrets) {
    if (secret.length >= 8 && out.includes(secret)) {
      out = out.replaceAll(secret, maskSecret(secret));
    }
  }
  return out;
}

/**
 * Compares two strings in time that depends only on their lengths.
 * @returns true when equal.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Generates a random secret with a CSPRNG, as URL-safe base64 after a prefix.
 * @param prefix Recognisable prefix, e.g. `gp-`.
 * @param bytes Random bytes (default 24 = 192 bits).
 */
export function randomSecret(prefix: string, bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return prefix + toBase64Url(raw);
}

/** Encrypts and decrypts short secrets with AES-GCM under a key derived from `SECRET_KEY`. */
export interface Cipher {
  /** Encrypts `plain` into `v1.<iv>.<ciphertext>` (base64url parts). */
  encrypt(plain: string): Promise<string>;
  /** Decrypts a value produced by {@linkcode Cipher.encrypt}; throws when the key is wrong. */
  decrypt(sealed: string): Promise<string>;
}

/**
 * Derives an AES-256-GCM cipher from a secret with HKDF-SHA-256.
 * @param secret The `SECRET_KEY` value (any length; at least 16 characters recommended).
 * @returns A {@linkcode Cipher}.
 * @example
 * ```ts
 * const cipher = await createCipher("a long random secret");
 * const sealed = await cipher.encrypt("AIza...");
 * ```
 */
export async function createCipher(secret: string): Promise<Cipher> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode("gemini-proxy/v1"),
      info: encoder.encode("gemini-key-encryption"),
    },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return {
    async encrypt(plain) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(plain));
      return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(data))}`;
    },
    async decrypt(sealed) {
      const [version, iv, data] = sealed.split(".");
      if (version !== "v1" || !iv || !data) throw new Error("Unknown sealed value format");
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64Url(iv) },
        key,
        fromBase64Url(data),
      );
      return decoder.decode(plain);
    },
  };
}

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
