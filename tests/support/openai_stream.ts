/**
 * OpenAI-compatible streamed chats seen from the client's side: what the fake upstream sends a
 * client that did not ask for usage, with its random ids and clock seconds blanked out, so that a
 * test can compare it byte for byte with what the proxy relayed.
 * @module
 */
import { fakeKeys } from "./harness.ts";

/**
 * Blanks out what the fake draws per answer (a random id and the clock's second).
 * @param sse A server-sent event stream as text.
 * @returns The same stream with `"id"` and `"created"` values made comparable.
 */
export function comparable(sse: string): string {
  return sse.replace(/"id":"[A-Za-z0-9]+"/g, '"id":"-"').replace(/"created":\d+/g, '"created":0');
}

/**
 * What the fake upstream sends for this chat body when `stream_options` is left out, ids made
 * comparable: the stream a client that did not ask for usage must see.
 * @param fakeUrl The fake upstream's base URL.
 * @param body The chat body as sent upstream.
 * @param key A key the fake accepts.
 * @returns The comparable SSE text.
 */
export async function upstreamWithoutUsage(
  fakeUrl: string,
  body: string,
  key: string = fakeKeys(1)[0]!,
): Promise<string> {
  const json = JSON.parse(body);
  delete json.stream_options;
  const response = await fetch(`${fakeUrl}/v1beta/openai/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(json),
  });
  return comparable(await response.text());
}
