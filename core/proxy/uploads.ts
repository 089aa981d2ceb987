/**
 * Resumable uploads through the proxy: the upload URL upstream hands out is rewritten to point
 * back at the proxy, and the session is pinned to the key that started it.
 * @module
 */
import type { Store } from "../store/store.ts";

/** How long an upload session stays pinned to its key (upstream sessions last about a week). */
export const UPLOAD_SESSION_TTL_MS = 7 * 24 * 3600_000;
/** How long a file stays pinned to its key (files are kept 48 hours upstream). */
export const FILE_TTL_MS = 49 * 3600_000;

/** Options of {@linkcode rewriteUploadUrl}. */
export interface RewriteOptions {
  /** Store for the session-to-key record. */
  store: Store;
  /** The key that started the session. */
  keyId: string;
  /** The configured upstream base URL. */
  upstreamUrl: string;
  /** The proxy's public origin, e.g. `https://proxy.example.com`. */
  publicOrigin: string;
}

/**
 * Rewrites `x-goog-upload-url` in place to the proxy's origin and records the session's key.
 * @param headers Response headers to the client.
 * @param options Store, key and origins.
 */
export async function rewriteUploadUrl(headers: Headers, options: RewriteOptions): Promise<void> {
  const location = headers.get("x-goog-upload-url");
  if (!location) return;
  let upstream: URL;
  try {
    upstream = new URL(location);
  } catch {
    return;
  }
  const uploadId = upstream.searchParams.get("upload_id");
  if (uploadId) {
    await options.store.putAffinity(`upload:${uploadId}`, options.keyId, UPLOAD_SESSION_TTL_MS);
  }
  // A gateway upstream (Cloudflare AI Gateway) puts its own prefix before the API path.
  const prefix = new URL(options.upstreamUrl).pathname.replace(/\/+$/, "");
  const path = prefix && upstream.pathname.startsWith(prefix + "/")
    ? upstream.pathname.slice(prefix.length)
    : upstream.pathname;
  headers.set("x-goog-upload-url", options.publicOrigin + path + upstream.search);
}

/**
 * Pins the file named in a finished upload's JSON to the key that uploaded it.
 * @param text The final upload response body.
 * @param store Store for the record.
 * @param keyId Uploading key.
 */
export async function recordUploadFile(text: string, store: Store, keyId: string): Promise<void> {
  try {
    const name = (JSON.parse(text) as { file?: { name?: unknown } }).file?.name;
    if (typeof name === "string" && name.startsWith("files/")) {
      await store.putAffinity(name, keyId, FILE_TTL_MS);
    }
  } catch {
    // Not JSON: nothing to pin; the body is relayed as it came.
  }
}
