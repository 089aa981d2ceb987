/**
 * Classifies an incoming path into the kind of Gemini call it is, without touching the body.
 * @module
 */
import { checkModelId } from "./model_id.ts";
import type { QueryParam } from "./request_url.ts";
import type { RouteKind } from "../store/mod.ts";

/** What the proxy needs to know about a request path. */
export interface ProxyRoute {
  /** `native` REST, `openai` compatibility layer, `upload` start, `upload_chunk`, `live` WebSocket. */
  kind: RouteKind;
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
  const path = pathname.startsWith("//") ? pathname.replace(/^\/{2,}/, "/") : pathname;
  const segments = path.split("/");
  // segments[0] is the empty text before the leading slash.
  const first = segments[1] ?? "";

  if (first === "ws" && segments.length >= 3 && segments[2]!.startsWith("google.ai.")) {
    const version = segments[2]!.match(/generativelanguage\.(v1\w*)\./)?.[1] ?? "v1beta";
    const method = segments[2]!.split(".").at(-1) ?? "live";
    return route("live", { path, version, query }, { method, stream: true });
  }
  if (first === "upload") {
    const version = segments[2] ?? "";
    if (!VERSION.test(version)) return null;
    const uploadId = query.find((p) => p.name === "upload_id")?.value;
    const at = { path, version, query };
    if (uploadId) return route("upload_chunk", at, { method: "upload", uploadId });
    return route("upload", at, { method: "upload" });
  }
  if (!VERSION.test(first)) return null;
  // Everything after the version (a URL path starts with `/`):
  // `models/gemini-2.5-flash:generateContent`, `openai/chat/completions`.
  const rest = segments.length > 2 ? path.slice(first.length + 2) : "";
  if (segments[2] === "openai") {
    return route("openai", { path, version: first, query }, {
      method: rest.slice("openai/".length) || "openai",
    });
  }
  return nativeRoute({ path, segments, rest, query });
}

/** A native REST route: its method, and the model or resources its path names. */
function nativeRoute(
  { path, segments, rest, query }: {
    path: string;
    segments: string[];
    rest: string;
    query: readonly QueryParam[];
  },
): ProxyRoute {
  let model: string | null = null;
  const restColon = rest.indexOf(":");
  let method = (restColon >= 0 ? rest.slice(0, restColon) : rest) || "root";
  const colon = path.lastIndexOf(":");
  if (colon > 0 && colon < path.length - 1 && path.indexOf("/", colon) < 0) {
    method = path.slice(colon + 1);
  }
  const resources: string[] = [];
  const collection = segments[2] ?? "";
  const named = segments[3] ?? "";
  const nameColon = named.indexOf(":");
  const name = nameColon >= 0 ? named.slice(0, nameColon) : named;
  if (collection === "models" || collection === "dynamic") {
    model = name ? checkModelId(decodeSegment(name)) : null;
    // models/{m}/operations/{id}: long-running predictions belong to a key's project.
    if (segments[4] === "operations" && segments[5]) {
      resources.push(`${collection}/${name}/operations/${segments[5]}`);
    }
  } else if (RESOURCE_COLLECTIONS.has(collection) && name) {
    resources.push(`${collection}/${name}`);
    if (collection === "tunedModels") model = checkModelId(decodeSegment(name));
  }
  return {
    kind: "native",
    path,
    version: segments[1]!,
    model,
    method,
    stream: method === "streamGenerateContent",
    uploadId: null,
    resources,
    query,
  };
}

/** A path segment decoded; one with a malformed escape stays as it came (and fails the grammar). */
function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A route of a kind other than `native`, with the defaults of every field its path does not set. */
function route(
  kind: ProxyRoute["kind"],
  { path, version, query }: { path: string; version: string; query: readonly QueryParam[] },
  fields: { method: string; stream?: boolean; uploadId?: string },
): ProxyRoute {
  return {
    kind,
    path,
    version,
    model: null,
    method: fields.method,
    stream: fields.stream ?? false,
    uploadId: fields.uploadId ?? null,
    resources: [],
    query,
  };
}
