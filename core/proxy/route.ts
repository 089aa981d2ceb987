/**
 * Classifies an incoming path into the kind of Gemini call it is, without touching the body.
 * @module
 */
import { checkModelId } from "./model_id.ts";
import type { QueryParam } from "./request_url.ts";

/** What the proxy needs to know about a request path. */
export interface ProxyRoute {
  /** `native` REST, `openai` compatibility layer, `upload` start, `upload_chunk`, `live` WebSocket. */
  kind: "native" | "openai" | "upload" | "upload_chunk" | "live";
  /** Path sent upstream (a doubled leading slash collapsed). */
  path: string;
  /** API version segment: `v1`, `v1beta`, `v1alpha`. */
  version: string;
  /** Model id without the `models/` prefix, when the path names one. */
  model: string | null;
  /** RPC method after the colon (`generateContent`), or a REST verb-like name. */
  method: string;
  /** Whether the response is a stream (by path; OpenAI's `stream: true` is in the body). */
  stream: boolean;
  /** Upload session id for `upload_chunk`. */
  uploadId: string | null;
  /** Resource names the path refers to (`files/abc`, `cachedContents/x`, `batches/y`). */
  resources: string[];
  /** The query, decoded once (see `readQuery`). */
  query: readonly QueryParam[];
  /**
   * Set once the body is read: the proxy asked upstream for the usage of an OpenAI stream whose
   * client did not ask for it, so that usage is kept out of what the client receives.
   */
  hideUsage?: boolean;
}

const VERSION = /^v1(?:beta|alpha)?\d*$/;
const RESOURCE_COLLECTIONS = new Set([
  "files",
  "cachedContents",
  "batches",
  "tunedModels",
  "operations",
  "corpora",
]);

/**
 * Classifies a request path.
 * @param pathname URL path as received (already dot-segment normalised by `URL`, escapes checked
 * by `checkPath`).
 * @param query The decoded query (`readQuery`).
 * @returns The route, or null when the path is not part of the Gemini API surface.
 * @throws {HttpError} 400 when the path names something that is not a model id as its model.
 */
export function classifyRoute(
  pathname: string,
  query: readonly QueryParam[],
): ProxyRoute | null {
  const path = pathname.replace(/^\/{2,}/, "/");
  const base = (kind: ProxyRoute["kind"], version: string, extra: Partial<ProxyRoute>) =>
    route(kind, path, version, { query, ...extra });
  const segments = path.split("/").slice(1);
  const first = segments[0] ?? "";

  if (first === "ws" && segments.length >= 2 && segments[1]?.startsWith("google.ai.")) {
    const version = segments[1].match(/generativelanguage\.(v1\w*)\./)?.[1] ?? "v1beta";
    const method = segments[1].split(".").at(-1) ?? "live";
    return base("live", version, { method, stream: true });
  }
  if (first === "upload") {
    const version = segments[1] ?? "";
    if (!VERSION.test(version)) return null;
    const uploadId = query.find((p) => p.name === "upload_id")?.value;
    if (uploadId) return base("upload_chunk", version, { method: "upload", uploadId });
    return base("upload", version, { method: "upload" });
  }
  if (!VERSION.test(first)) return null;
  if (segments[1] === "openai") {
    const rest = segments.slice(2).join("/");
    return base("openai", first, { method: rest || "openai" });
  }

  let model: string | null = null;
  let method = segments.slice(1).join("/").split(":")[0] || "root";
  const colon = path.lastIndexOf(":");
  const tail = colon > 0 ? path.slice(colon + 1) : "";
  if (tail && !tail.includes("/")) method = tail;
  const resources: string[] = [];
  const collection = segments[1] ?? "";
  const name = (segments[2] ?? "").split(":")[0] ?? "";
  if (collection === "models" || collection === "dynamic") {
    model = name ? checkModelId(decodeSegment(name)) : null;
    // models/{m}/operations/{id}: long-running predictions belong to a key's project.
    if (segments[3] === "operations" && segments[4]) {
      resources.push(`${collection}/${name}/operations/${segments[4]}`);
    }
  } else if (RESOURCE_COLLECTIONS.has(collection) && name) {
    resources.push(`${collection}/${name}`);
    if (collection === "tunedModels") model = checkModelId(decodeSegment(name));
  }
  return base("native", first, {
    model,
    method,
    stream: method === "streamGenerateContent",
    resources,
  });
}

/** A path segment decoded; one with a malformed escape stays as it came (and fails the grammar). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function route(
  kind: ProxyRoute["kind"],
  path: string,
  version: string,
  extra: Partial<ProxyRoute>,
): ProxyRoute {
  return {
    kind,
    path,
    version,
    model: null,
    method: kind,
    stream: false,
    uploadId: null,
    resources: [],
    query: [],
    ...extra,
  };
}
