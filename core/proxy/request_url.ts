/**
 * The one reader of a request's path and query. Each is decoded once, here, with the rules
 * upstream applies (`+` is a space in the query, percent escapes are UTF-8), so the names the
 * proxy acts on are the names upstream will see. Anything that cannot be read that way is refused
 * before it reaches any state or any key.
 * @module
 */
import { HttpError } from "../errors.ts";

/** Longest path accepted, in characters (Gemini's own are a few hundred at most). */
export const MAX_PATH_CHARS = 2048;
/** Longest query string accepted, in characters (an upload id and a page token fit many times). */
export const MAX_QUERY_CHARS = 8192;

/** One `name=value` pair of a query, as sent and as decoded. */
export interface QueryParam {
  /** The pair exactly as the client sent it, for forwarding unchanged. */
  raw: string;
  /** Decoded name. */
  name: string;
  /** Decoded value. */
  value: string;
}

/**
 * Checks a path: its length and that every percent escape in it decodes.
 * @param pathname The URL's path (already dot-segment normalised by `URL`).
 * @throws {HttpError} 414 when too long, 400 for a malformed escape.
 */
export function checkPath(pathname: string): void {
  if (pathname.length > MAX_PATH_CHARS) {
    throw new HttpError(
      414,
      `Request path of ${pathname.length} characters exceeds ${MAX_PATH_CHARS}`,
    );
  }
  if (!pathname.includes("%")) return;
  for (const segment of pathname.split("/")) decode(segment, "path");
}

/**
 * Reads a query string into decoded pairs, keeping each pair's raw form.
 * @param search The URL's search, with or without the leading `?`.
 * @returns The pairs in order; empty pairs (`&&`) are left out.
 * @throws {HttpError} 414 when too long, 400 for a malformed escape.
 */
export function readQuery(search: string): QueryParam[] {
  const text = search.startsWith("?") ? search.slice(1) : search;
  if (text.length > MAX_QUERY_CHARS) {
    throw new HttpError(
      414,
      `Query string of ${text.length} characters exceeds ${MAX_QUERY_CHARS}`,
    );
  }
  const params: QueryParam[] = [];
  if (text === "") return params;
  for (const raw of text.split("&")) {
    if (raw === "") continue;
    const at = raw.indexOf("=");
    const name = at < 0 ? raw : raw.slice(0, at);
    const value = at < 0 ? "" : raw.slice(at + 1);
    params.push({ raw, name: decode(name, "query"), value: decode(value, "query") });
  }
  return params;
}

/**
 * Decodes one path segment or query component.
 * @param text Raw text.
 * @param where `path` (where `+` is itself) or `query` (where `+` is a space).
 * @throws {HttpError} 400 for a malformed escape or bytes that are not UTF-8.
 */
function decode(text: string, where: "path" | "query"): string {
  const plain = where === "query" ? text.replaceAll("+", " ") : text;
  if (!plain.includes("%")) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    // A query may carry credentials: its text is never quoted back.
    const near = where === "path" ? ` in ${clipped(text)}` : "";
    throw new HttpError(400, `The request ${where} has a malformed percent escape${near}`);
  }
}

/**
 * A client-sent value fit to quote in a message: at most `max` characters, everything outside
 * printable ASCII escaped, in double quotes.
 * @param value The hostile value.
 * @param max Characters kept before `...`.
 */
export function clipped(value: string, max = 40): string {
  const short = value.length > max ? value.slice(0, max) : value;
  const escaped = short.replace(
    /[^\x20-\x7e]|["\\]/g,
    (ch) =>
      ch === '"' || ch === "\\"
        ? `\\${ch}`
        : `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${escaped}${value.length > max ? "..." : ""}"`;
}
