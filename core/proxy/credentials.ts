import { HttpError } from "../errors.ts";

/**
 * Finds the client's proxy token wherever SDKs put it: `x-goog-api-key`, `?key=`, or
 * `Authorization: Bearer` (the OpenAI SDK's way).
 * @param headers Request headers.
 * @param params Query parameters.
 * @returns The token, or null when none is given.
 * @throws {HttpError} 400 when two places carry different values.
 */
export function clientCredential(headers: Headers, params: URLSearchParams): string | null {
  const found = new Set<string>();
  const header = headers.get("x-goog-api-key")?.trim();
  if (header) found.add(header);
  for (const value of params.getAll("key")) if (value.trim()) found.add(value.trim());
  const auth = headers.get("authorization")?.trim();
  const bearer = auth?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (bearer) found.add(bearer);
  if (found.size > 1) {
    throw new HttpError(400, "Request carries different credentials in several places", {
      reason: "CONFLICTING_CREDENTIALS",
    });
  }
  const [only] = found;
  return only ?? null;
}

/**
 * The query string to send upstream: the client's `key` parameters removed, everything else kept
 * in order.
 * @param search Raw query string, with or without the leading `?`.
 */
export function upstreamSearch(search: string): string {
  if (!search || search === "?") return "";
  if (!/(?:^|[?&])key=/.test(search)) return search;
  const kept = search.replace(/^\?/, "").split("&").filter((pair) =>
    pair !== "" && !pair.startsWith("key=") && pair !== "key"
  );
  return kept.length ? `?${kept.join("&")}` : "";
}
