/**
 * Asking upstream for the usage of every OpenAI-compatible stream, so that each one can be
 * charged: a streamed chat completion without `stream_options.include_usage: true` gets it set in
 * the body sent upstream (every other byte of the body kept), and the usage chunk the client did
 * not ask for is later removed from its stream by {@linkcode stripUsage}.
 * @module
 */
import { HttpError } from "../errors.ts";
import { jsonMembers, withFirstMember, withValue } from "../utils/mod.ts";
import type { PreparedBody } from "./request_body.ts";
import type { ProxyRoute } from "./route.ts";

/** What {@linkcode includeUsage} made of a body. */
export interface IncludeUsage {
  /** The body text to send upstream. */
  text: string;
  /** Whether the proxy asked for usage the client did not ask for (hide it from the client). */
  added: boolean;
}

const encoder = new TextEncoder();

/**
 * Makes a streamed chat completion request ask for usage.
 * @param text The client's body text (valid JSON).
 * @param json The same body parsed.
 * @returns The body to send, or null when it is not a streamed request (nothing to do).
 * @throws {HttpError} 400 when `stream`, `stream_options` or `include_usage` appear twice, or
 * `stream_options` is neither an object nor null: what upstream would read is then ambiguous.
 */
export function includeUsage(text: string, json: unknown): IncludeUsage | null {
  const members = jsonMembers(text);
  if (members === null) return null;
  unique(members.map((m) => m.key), ["stream", "stream_options"], "");
  if ((json as { stream?: unknown }).stream !== true) return null;
  const options = members.find((m) => m.key === "stream_options");
  if (!options) {
    return {
      text: withFirstMember(text, {
        key: "stream_options",
        valueJson: '{"include_usage":true}',
      }),
      added: true,
    };
  }
  const inner = jsonMembers(text, options.valueStart);
  if (inner === null) {
    if (text.startsWith("null", options.valueStart)) {
      return { text: withValue(text, options, '{"include_usage":true}'), added: true };
    }
    throw new HttpError(400, 'Invalid value at "stream_options": expected an object');
  }
  unique(inner.map((m) => m.key), ["include_usage"], "stream_options.");
  const flag = inner.find((m) => m.key === "include_usage");
  if (!flag) {
    return {
      text: withFirstMember(text, {
        key: "include_usage",
        valueJson: "true",
        from: options.valueStart,
      }),
      added: true,
    };
  }
  if (text.slice(flag.valueStart, flag.valueEnd) === "true") return { text, added: false };
  return { text: withValue(text, flag, "true"), added: true };
}

/**
 * Applies {@linkcode includeUsage} to a prepared request body for the routes it concerns
 * (`POST .../openai/chat/completions` with a buffered JSON body).
 * @param route The request's route.
 * @param method The HTTP method.
 * @param body The prepared body; its bytes are replaced when the proxy adds the flag.
 * @returns True when the proxy asked for usage the client did not ask for.
 * @throws {HttpError} 400 as {@linkcode includeUsage} does.
 */
export function askForUsage(route: ProxyRoute, method: string, body: PreparedBody): boolean {
  if (route.kind !== "openai" || method !== "POST" || route.method !== "chat/completions") {
    return false;
  }
  if (body.text === null || !(body.body instanceof Uint8Array)) return false;
  if (typeof body.json !== "object" || body.json === null || Array.isArray(body.json)) {
    return false;
  }
  const result = includeUsage(body.text, body.json);
  if (!result?.added) return false;
  body.body = encoder.encode(result.text);
  return true;
}

function unique(keys: string[], names: string[], prefix: string): void {
  for (const name of names) {
    if (keys.indexOf(name) !== keys.lastIndexOf(name)) {
      throw new HttpError(400, `Invalid JSON payload received: "${prefix}${name}" appears twice`);
    }
  }
}
