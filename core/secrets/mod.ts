/**
 * Secrets at rest and in text: Gemini keys sealed with AES-GCM under `SECRET_KEY`, proxy tokens
 * kept only as SHA-256 hashes, masking for display, redaction of anything key-shaped from log
 * lines and bodies, and the import of the keys and tokens given in the environment.
 *
 * - {@linkcode createCipher}: seals and opens keys.
 * - {@linkcode sha256Hex}, {@linkcode maskSecret}, {@linkcode redact},
 *   {@linkcode timingSafeEqual}, {@linkcode randomSecret}: WebCrypto only, so every host runs them.
 * - {@linkcode issueTokenSecret}: a new proxy token (`gp-` and 192 random bits), its hash and mask.
 * - {@linkcode importSecrets}, {@linkcode resealKeys}: start-up seeding and re-sealing under a new
 *   `SECRET_KEY`.
 * @module
 */
export {
  type Cipher,
  createCipher,
  KEY_SHAPE,
  maskSecret,
  randomSecret,
  redact,
  sha256Hex,
  timingSafeEqual,
  TOKEN_SHAPE,
} from "./secrets.ts";
export { type ImportOptions, type ImportResult, importSecrets, keyId, resealKeys } from "./seed.ts";
export { type IssuedSecret, issueTokenSecret, newTokenId, TOKEN_PREFIX } from "./token_secret.ts";
