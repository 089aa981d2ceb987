/**
 * Calls the token tests make: the tokens admin API and generateContent with a proxy token.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";

/** The admin password of the proxies the token tests start. */
export const ADMIN = "admin-password-for-tests";
/** The model the token tests call. */
export const FLASH = "gemini-2.5-flash";
const auth = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
/** Whether an upstream path is a generate call. */
export const isGenerate = (path: string) => /:(stream)?[gG]enerateContent$/.test(path);

/** A token the admin API created: its id, its secret (shown once) and its record. */
export interface Created {
  id: string;
  secret: string;
  token: Record<string, unknown>;
}

/** Creates a token through the admin API (asserting 201). */
export async function createToken(base: string, body: Record<string, unknown>): Promise<Created> {
  const response = await fetch(`${base}/admin/api/tokens`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assertEquals(response.status, 201, JSON.stringify(json));
  return { id: json.token.id, secret: json.secret, token: json.token };
}

/** Calls the tokens admin API at `path` (below /admin/api/tokens). */
export function admin(
  base: string,
  path: string,
  method = "GET",
  body?: unknown,
): Promise<Response> {
  return fetch(`${base}/admin/api/tokens${path}`, {
    method,
    headers: auth,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** generateContent (or its SSE stream) with a given proxy token. */
export function call(
  base: string,
  secret: string,
  options: { model?: string; text?: string; stream?: boolean; maxOutputTokens?: number } = {},
): Promise<Response> {
  const method = options.stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const body: Record<string, unknown> = {
    contents: [{ role: "user", parts: [{ text: options.text ?? "hi" }] }],
  };
  if (options.maxOutputTokens) {
    body.generationConfig = { maxOutputTokens: options.maxOutputTokens };
  }
  return fetch(`${base}/v1beta/models/${options.model ?? FLASH}:${method}`, {
    method: "POST",
    headers: { "x-goog-api-key": secret, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The status of a response, its body discarded. */
export async function statusOf(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

/** The `error` member of a Google error envelope. */
export async function errorOf(response: Response): Promise<{
  code: number;
  status: string;
  message: string;
  details: { "@type": string; [k: string]: unknown }[];
}> {
  return (await response.json()).error;
}

/** Checks 90 refusals: 429 RESOURCE_EXHAUSTED with Retry-After and a matching RetryInfo. */
export async function assertRateLimited(responses: Response[], expectedRetryAfter?: number) {
  for (const response of responses) {
    assertEquals(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    if (expectedRetryAfter !== undefined) assertEquals(retryAfter, expectedRetryAfter);
    const error = await errorOf(response);
    assertEquals(error.status, "RESOURCE_EXHAUSTED");
    const info = error.details.find((d) => d["@type"].endsWith("RetryInfo"));
    assertEquals(info?.retryDelay, `${retryAfter}s`);
    assertStringIncludes(error.message, "10 requests per minute");
  }
}
