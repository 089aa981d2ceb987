/**
 * The proxy contract: credentials (?key=, missing and unknown tokens) and malformed requests.
 * @module
 */
import { GoogleGenAI } from "@google/genai";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { MODEL, recordOf, type Suite, TEST_KEYS, TEST_TOKEN } from "./_suite.ts";

/**
 * Registers these cases of the contract for one target.
 * @param suite The target and the helpers every case uses.
 */
export function runRequestsContract(suite: Suite): void {
  const { name, withProxy, genai } = suite;

  Deno.test(`${name}: ?key= is accepted and replaced by a header upstream`, () =>
    withProxy(async (ctx) => {
      const response = await fetch(`${ctx.proxy.url}/v1beta/models?pageSize=2&key=${TEST_TOKEN}`);
      assertEquals(response.status, 200);
      await response.body?.cancel();
      const record = recordOf(ctx.fake, response);
      assertEquals(record.search, "?pageSize=2");
      assert(TEST_KEYS.includes(record.headers["x-goog-api-key"]!));
    }));

  Deno.test(`${name}: missing and unknown tokens get a Google envelope and never reach upstream`, () =>
    withProxy(async (ctx) => {
      const variants: Record<string, string>[] = [
        {},
        { "x-goog-api-key": "gp-unknown" },
        { authorization: "Bearer AIzaFAKE-TEST-key-000000000000000000001" },
      ];
      for (const headers of variants) {
        const response = await fetch(`${ctx.proxy.url}/v1beta/models/${MODEL}:generateContent`, {
          method: "POST",
          headers,
          body: "{}",
        });
        assertEquals(response.status, 401);
        const body = await response.json();
        assertEquals(body.error.code, 401);
        assertEquals(body.error.status, "UNAUTHENTICATED");
        assert(typeof body.error.message === "string" && body.error.message.length > 0);
      }
      const stranger = new GoogleGenAI({
        apiKey: "gp-unknown",
        httpOptions: { baseUrl: ctx.proxy.url },
      });
      const sdkError = await stranger.models.generateContent({ model: MODEL, contents: "x" }).then(
        () => null,
        (e: unknown) => e,
      );
      assert(sdkError instanceof Error, "the SDK surfaces the refusal as an error");
      assertStringIncludes(sdkError.message, "Proxy token is not valid");
      assertEquals(ctx.fake.requests.length, 0);
    }));

  Deno.test(`${name}: malformed requests get clear errors and the server keeps serving`, () =>
    withProxy(async (ctx) => {
      const bad = await fetch(`${ctx.proxy.url}/v1beta/openai/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
        body: "{not json",
      });
      assertEquals(bad.status, 400);
      assertEquals((await bad.json()).error.status, "INVALID_ARGUMENT");
      const huge = await fetch(`${ctx.proxy.url}/v1beta/models`, {
        headers: { "x-goog-api-key": TEST_TOKEN, "x-filler": "a".repeat(40_000) },
      });
      assertEquals(huge.status, 431);
      assertEquals((await huge.json()).error.code, 431);
      assertEquals(ctx.fake.requests.length, 0);
      const health = await fetch(`${ctx.proxy.url}/healthz`);
      assertEquals(health.status, 200);
      await health.body?.cancel();
      const ok = await genai(ctx).models.generateContent({
        model: MODEL,
        contents: "still there?",
      });
      assert(ok.text);
    }));
}
