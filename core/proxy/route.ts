/**
 * Classifies an incoming path into the kind of Gemini call it is, without touching the body.
 * @module
 */

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
 * @param pathname URL path as received (already dot-segment normalised by `URL`).
 * @param params The query parameters.
 * @returns The route, or null when the path is not part of the Gemini API surface.
 */
export function classifyRoute(pathname: string, params: URLSearchParams): ProxyRoute | null {
  const path = pathname.replace(/^\/{2,}/, "/");
  const segments = path.split("/").slice(1);
  const first = segments[0] ?? "";

  if (first === "ws" && segments.length >= 2 && segments[1]?.startsWith("google.ai.")) {
    const version = segments[1].match(/generativelanguage\.(v1\w*)\./)?.[1] ?? "v1beta";
    const method = segments[1].split(".").at(-1) ?? "live";
    return base("live", path, version, { method, stream: true });
  }
  if (first === "upload") {
    const version = segments[1] ?? "";
    if (!VERSION.test(version)) return null;
    const uploadId = params.get("upload_id");
    if (uploadId) return base("upload_chunk", path, version, { method: "upload", uploadId });
    return base("upload", path, version, { method: "upload" });
  }
  if (!VERSION.test(first)) return null;
  if (segments[1] === "openai") {
    const rest = segments.slice(2).join("/");
    return base("openai", path, first, { method: rest || "openai" });
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
    model = name ? decodeURIComponent(name) : null;
    // models/{m}/operations/{id}: long-running predictions belong to a key's project.
    if (segments[3] === "operations" && segments[4]) {
      resources.push(`${collection}/${name}/operations/${segments[4]}`);
    }
  } else if (RESOURCE_COLLECTIONS.has(collection) && name) {
    resources.push(`${collection}/${name}`);
    if (collection === "tunedModels") model = name;
  }
  return base("native", path, first, {
    model,
    method,
    stream: method === "streamGenerateContent",
    resources,
  });
}

function base(
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
    ...extra,
  };
}
