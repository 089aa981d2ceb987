/**
 * The proxy token never reaches Google: sent in every encoding of every credential place, on
 * native, OpenAI, upload and Live paths, it appears nowhere in what upstream records (URL,
 * headers, body), decoded or not. Names that only resemble a credential are refused.
 */
import type { RecordedRequest } from "./support/fake_upstream/mod.ts";
import { assert, assertEquals, assertNotIncludes } from "./support/assert.ts";
import { type Harness, TOKEN } from "./support/harness.ts";
import { liveSetup } from "./support/proxy_contract/hostile.ts";
import { KEYS, withHarness } from "./support/hostile.ts";

/** Every way a query can name the credential, each with the harness token. */
const ENCODINGS = [
  `key=${TOKEN}`,
  `%6Bey=${TOKEN}`,
  `k%65y=${TOKEN}`,
  `ke%79=${TOKEN}`,
  `%6b%65%79=${TOKEN}`,
  `$key=${TOKEN}`,
  `%24key=${TOKEN}`,
  `key=${encodeURIComponent(TOKEN).replace("g", "%67")}`,
  `key=+${TOKEN}+`,
  `key=${TOKEN}&%6Bey=${TOKEN}&key=${TOKEN}`,
  `key=&k%65y=${TOKEN}`,
];

/** Names Google might read as a credential that are not the proxy token's place. */
const REFUSED = ["KEY", "Key", "%4Bey", "key%00", "key+", "%24KEY", "access_token", "oauth_token"];

/** Every form of a recorded request that could carry the token, decoded and not. */
function forms(r: RecordedRequest): string[] {
  const out = [r.search, JSON.stringify(r.headers), r.body ?? ""];
  for (const text of [...out]) {
    try {
      out.push(decodeURIComponent(text.replaceAll("+", " ")));
    } catch {
      out.push(text.replaceAll("+", " "));
    }
  }
  return out;
}

function assertTokenNeverUpstream(h: Harness, what: string): void {
  assert(h.fake.requests.length > 0, `${what}: upstream saw the request`);
  for (const r of h.fake.requests) {
    for (const text of forms(r)) assertNotIncludes(text, TOKEN, `${what}: ${r.path}`);
    assert(r.key !== null && KEYS.includes(r.key), `${what}: upstream got a real key`);
  }
}

const json = { "content-type": "application/json" };
const prompt = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });

Deno.test("a token in any encoding of key is accepted and removed on native paths", () =>
  withHarness(async (h) => {
    for (const query of ENCODINGS) {
      h.fake.reset();
      const list = await fetch(`${h.proxy.url}/v1beta/models?pageSize=2&${query}`);
      assertEquals(list.status, 200, query);
      await list.body?.cancel();
      const gen = await fetch(
        `${h.proxy.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?${query}&alt=sse`,
        { method: "POST", headers: json, body: prompt },
      );
      assertEquals(gen.status, 200, query);
      await gen.text();
      assertTokenNeverUpstream(h, query);
      assertEquals(h.fake.requests.at(-1)!.search, "?alt=sse", query);
    }
  }));

Deno.test("a token in any encoding of key is removed on OpenAI and upload-start paths", () =>
  withHarness(async (h) => {
    for (const query of ENCODINGS) {
      h.fake.reset();
      const chat = await fetch(`${h.proxy.url}/v1beta/openai/chat/completions?${query}`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "x" }],
        }),
      });
      assertEquals(chat.status, 200, `${query}: ${await chat.text()}`);
      const start = await fetch(`${h.proxy.url}/upload/v1beta/files?${query}`, {
        method: "POST",
        headers: {
          ...json,
          "x-goog-upload-protocol": "resumable",
          "x-goog-upload-command": "start",
          "x-goog-upload-header-content-length": "5",
          "x-goog-upload-header-content-type": "text/plain",
        },
        body: JSON.stringify({ file: { display_name: "f" } }),
      });
      assertEquals(start.status, 200, query);
      const uploadUrl = start.headers.get("x-goog-upload-url") ?? "";
      await start.body?.cancel();
      assert(uploadUrl.startsWith(h.proxy.url), "the upload URL points back at the proxy");
      assertNotIncludes(uploadUrl, TOKEN, "the upload URL carries no token");
      assertTokenNeverUpstream(h, query);
    }
  }));

Deno.test("a token in any encoding of key is removed on the Live WebSocket path", () =>
  withHarness(async (h) => {
    const path = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
    for (const query of ENCODINGS) {
      h.fake.reset();
      await liveSetup(`${h.proxy.url.replace(/^http/, "ws")}${path}?${query}`);
      assertTokenNeverUpstream(h, `live ${query}`);
      assertEquals(h.fake.requests.filter((r) => r.path.includes("/ws/")).length, 1);
    }
  }));

Deno.test("names that only resemble key, and OAuth parameters, are refused before upstream", () =>
  withHarness(async (h) => {
    for (const name of REFUSED) {
      for (const headers of [{}, { "x-goog-api-key": TOKEN }] as Record<string, string>[]) {
        const response = await fetch(`${h.proxy.url}/v1beta/models?${name}=${TOKEN}`, { headers });
        const body = await response.json();
        assertEquals(response.status, 400, name);
        assertEquals(body.error.status, "INVALID_ARGUMENT");
        assertEquals(body.error.details[0].reason, "CREDENTIAL_PARAMETER_REFUSED");
        assertNotIncludes(body.error.message, TOKEN, "the value is never quoted back");
      }
    }
    const mixed = await fetch(`${h.proxy.url}/v1beta/models?%6Bey=gp-other`, {
      headers: { "x-goog-api-key": TOKEN },
    });
    assertEquals(mixed.status, 400);
    assertEquals((await mixed.json()).error.details[0].reason, "CONFLICTING_CREDENTIALS");
    assertEquals(h.fake.requests.length, 0);
  }));
