/**
 * Resumable uploads through the proxy: the upload URL upstream hands out is rewritten to point
 * back at the proxy, so the session's chunks come back through it.
 * @module
 */
import { type HeaderList, listedHeader, setListedHeader } from "./headers.ts";

/** How long an upload session stays pinned to its key (upstream sessions last about a week). */
export const UPLOAD_SESSION_TTL_MS = 7 * 24 * 3600_000;

/** Options of {@linkcode rewriteUploadUrl}. */
export interface RewriteOptions {
  /** The configured upstream base URL. */
  upstreamUrl: string;
  /** The proxy's public origin, e.g. `https://proxy.example.com`. */
  publicOrigin: string;
}

/**
 * Rewrites `x-goog-upload-url` in place to the proxy's origin.
 * @param headers Response headers to the client.
 * @param options Origins.
 * @returns The session's upload id, when the header carried one.
 */
export function rewriteUploadUrl(headers: HeaderList, options: RewriteOptions): string | null {
  const location = listedHeader(headers, "x-goog-upload-url");
  if (!location) return null;
  let upstream: URL;
  try {
    upstream = new URL(location);
  } catch {
    return null;
  }
  // A gateway upstream (Cloudflare AI Gateway) puts its own prefix before the API path.
  const prefix = new URL(options.upstreamUrl).pathname.replace(/\/+$/, "");
  const path = prefix && upstream.pathname.startsWith(prefix + "/")
    ? upstream.pathname.slice(prefix.length)
    : upstream.pathname;
  setListedHeader(headers, "x-goog-upload-url", options.publicOrigin + path + upstream.search);
  return upstream.searchParams.get("upload_id");
}
