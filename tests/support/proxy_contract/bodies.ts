/**
 * The proxy contract: raw bodies are byte-identical to upstream's for every endpoint and mode,
 * and streams are charged from their usage (asked for when the client did not, hidden again).
 * @module
 */
import { assertEquals, assertNotIncludes, assertStringIncludes } from "../assert.ts";
import { MODEL, recordOf, type Suite, TEST_KEYS, TEST_TOKEN, withoutIds } from "./_suite.ts";

/**
 * Registers these cases of the contract for one target.
 * @param suite The target and the helpers every case uses.
 */
export function runBodiesContract(suite: Suite): void {
  const { name, withProxy, assertUpstreamSawOnlyRealKeys } = suite;

  Deno.test(`${name}: raw bodies are byte-identical to upstream's for every endpoint and mode`, () =>
    withProxy(async (ctx) => {
      const auth = { "x-goog-api-key": TEST_TOKEN, "content-type": "application/json" };
      const gen = JSON.stringify({
        contents: [{ role: "user", parts: [{ text: "bytes please" }] }],
      });
      const calls: [string, string, string | null][] = [
        ["GET", "/v1beta/models", null],
        ["GET", `/v1beta/models/${MODEL}`, null],
        ["GET", `/v1/models/${MODEL}`, null],
        ["POST", `/v1beta/models/${MODEL}:generateContent`, gen],
        ["POST", `/v1/models/${MODEL}:generateContent`, gen],
        ["POST", `/v1alpha/models/${MODEL}:generateContent`, gen],
        ["POST", `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, gen],
        ["POST", `/v1beta/models/${MODEL}:streamGenerateContent`, gen],
        ["POST", `/v1beta/models/${MODEL}:countTokens`, gen],
        [
          "POST",
          `/v1beta/models/gemini-embedding-001:embedContent`,
          JSON.stringify({ content: { parts: [{ text: "x" }] } }),
        ],
        [
          "POST",
          `/v1beta/models/gemini-embedding-001:batchEmbedContents`,
          JSON.stringify({
            requests: [{
              model: "models/gemini-embedding-001",
              content: { parts: [{ text: "x" }] },
            }],
          }),
        ],
        [
          "POST",
          "/v1beta/cachedContents",
          JSON.stringify({
            model: `models/${MODEL}`,
            contents: [{ role: "user", parts: [{ text: "cache me" }] }],
            ttl: "300s",
          }),
        ],
        ["GET", "/v1beta/cachedContents", null],
        ["GET", "/v1beta/files", null],
        [
          "POST",
          `/v1beta/models/${MODEL}:batchGenerateContent`,
          JSON.stringify({
            batch: { displayName: "b", inputConfig: { requests: { requests: [] } } },
          }),
        ],
        ["GET", "/v1beta/batches", null],
        [
          "POST",
          "/v1beta/models/imagen-4:predict",
          JSON.stringify({ instances: [{ prompt: "a cat" }] }),
        ],
        ["POST", "/v1beta/interactions", JSON.stringify({ model: MODEL, input: "hi" })],
        ["GET", "/v1beta/someFutureMethod/thing", null],
        [
          "POST",
          "/v1beta/openai/chat/completions",
          JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "x" }] }),
        ],
        [
          "POST",
          "/v1beta/openai/chat/completions",
          JSON.stringify({
            model: MODEL,
            stream: true,
            stream_options: { include_usage: true },
            messages: [{ role: "user", content: "x" }],
          }),
        ],
        [
          "POST",
          "/v1beta/openai/embeddings",
          JSON.stringify({ model: "gemini-embedding-001", input: "x" }),
        ],
        ["GET", "/v1beta/openai/models", null],
        [
          "POST",
          "/v1beta/openai/images/generations",
          JSON.stringify({ model: "imagen-4", prompt: "a cat" }),
        ],
      ];
      for (const [method, path, body] of calls) {
        const response = await fetch(ctx.proxy.url + path, { method, headers: auth, body });
        const text = await response.text();
        const record = recordOf(ctx.fake, response);
        await record.done;
        assertEquals(response.status, record.responseStatus, `${method} ${path} status`);
        assertEquals(text, record.responseBody, `${method} ${path} body`);
        assertEquals(record.path, path.split("?")[0], `${method} ${path} upstream path`);
      }
      assertUpstreamSawOnlyRealKeys(ctx.fake);
    }));

  Deno.test(`${name}: an OpenAI stream without include_usage asks upstream for usage and hides it`, () =>
    withProxy(async (ctx) => {
      const path = "/v1beta/openai/chat/completions";
      const body = `{"model":"${MODEL}","stream":true,"seed":12345678901234567890,` +
        '"extra_body":{"google":{"thinking_config":{"thinking_budget":0}}},' +
        '"messages":[{"role":"user","content":"count me"}]}';
      const response = await fetch(ctx.proxy.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
        body,
      });
      const text = await response.text();
      const record = recordOf(ctx.fake, response);
      await record.done;
      // Every byte of the client's body goes upstream, with the usage flag added.
      assertEquals(record.body, `{"stream_options":{"include_usage":true},${body.slice(1)}`);
      assertStringIncludes(record.responseBody, '"choices":[],');
      // The client gets what upstream sends a client that did not ask for usage.
      const direct = await fetch(ctx.fake.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_KEYS[0]}`, "content-type": "application/json" },
        body,
      });
      assertEquals(withoutIds(text), withoutIds(await direct.text()));
      assertNotIncludes(text, '"usage"');
    }));

  Deno.test(`${name}: a stream that ends without usage is counted as usage unknown`, () =>
    withProxy(async (ctx) => {
      // Upstream answers 200 and ends the stream before its first chunk (and usageMetadata).
      ctx.fake.failAll({ kind: "cut_stream", afterChunks: 0 }, { times: 1 });
      const response = await fetch(
        `${ctx.proxy.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
        {
          method: "POST",
          headers: { "x-goog-api-key": TEST_TOKEN, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "cut" }] }] }),
        },
      );
      assertEquals(response.status, 200);
      await response.text();
      // The record is complete once the body has ended, before the client sees its end.
      const metrics = await (await fetch(`${ctx.proxy.url}/metrics`, {
        headers: { authorization: "Bearer contract-metrics" },
      })).text();
      assertStringIncludes(metrics, 'gemini_proxy_usage_unknown_total{flavour="native"} 1');
    }, { env: { METRICS_TOKEN: "contract-metrics" } }));
}
