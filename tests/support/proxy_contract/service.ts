/**
 * The proxy contract: CORS, /healthz, no key configured, gzip, body limits and a 100 MB upload.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { MODEL, recordOf, type Suite, TEST_KEYS, TEST_TOKEN } from "./_suite.ts";

/**
 * Registers these cases of the contract for one target.
 * @param suite The target and the helpers every case uses.
 */
export function runServiceContract(suite: Suite): void {
  const { name, withProxy, hugeUpload } = suite;

  Deno.test(`${name}: CORS preflights are answered by the proxy`, () =>
    withProxy(async (ctx) => {
      const response = await fetch(`${ctx.proxy.url}/v1beta/models/${MODEL}:generateContent`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "x-goog-api-key, content-type, x-goog-api-client",
        },
      });
      await response.body?.cancel();
      assert(response.status === 204 || response.status === 200);
      assertEquals(response.headers.get("access-control-allow-origin"), "*");
      assertStringIncludes(
        response.headers.get("access-control-allow-headers") ?? "",
        "x-goog-api-key",
      );
      assertEquals(ctx.fake.requests.length, 0);
    }));

  Deno.test(`${name}: /healthz reports version, store and keys`, () =>
    withProxy(async (ctx) => {
      const response = await fetch(`${ctx.proxy.url}/healthz`);
      assertEquals(response.status, 200);
      const body = await response.json();
      assertEquals(body.status, "ok");
      assertEquals(body.keys.enabled, TEST_KEYS.length);
      assert(typeof body.version === "string" && typeof body.store.kind === "string");
      assertEquals(body.region, "test-region-1");
    }, { env: { DENO_REGION: "test-region-1" } }));

  Deno.test(`${name}: with no key configured the proxy answers 503 in Google's envelope`, () =>
    withProxy(async (ctx) => {
      const response = await fetch(`${ctx.proxy.url}/v1beta/models`, {
        headers: { "x-goog-api-key": TEST_TOKEN },
      });
      assertEquals(response.status, 503);
      const body = await response.json();
      assertEquals(body.error.status, "UNAVAILABLE");
      assertStringIncludes(body.error.message, "GEMINI_API_KEYS");
      assertEquals(ctx.fake.requests.length, 0);
    }, { keys: [] }));

  Deno.test(`${name}: gzip-compressed upstream bodies reach the client intact`, () =>
    withProxy(async (ctx) => {
      const response = await fetch(`${ctx.proxy.url}/v1beta/models/${MODEL}:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": TEST_TOKEN, "accept-encoding": "gzip" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "zip it" }] }] }),
      });
      const text = await response.text();
      const record = recordOf(ctx.fake, response);
      assertEquals(
        record.headers["accept-encoding"]?.includes("gzip"),
        true,
        "upstream was asked for gzip",
      );
      assertEquals(text, record.responseBody);
    }));

  Deno.test(`${name}: bodies over MAX_BODY_BYTES get 413 and the server keeps serving`, () =>
    withProxy(async (ctx) => {
      const response = await fetch(`${ctx.proxy.url}/v1beta/models/${MODEL}:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": TEST_TOKEN, "content-type": "application/json" },
        body: "x".repeat(4096),
      });
      assertEquals(response.status, 413);
      assertEquals((await response.json()).error.code, 413);
      const ok = await fetch(`${ctx.proxy.url}/healthz`);
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
    }, { env: { MAX_BODY_BYTES: "2048" } }));

  Deno.test(...hugeUpload, () =>
    withProxy(async (ctx) => {
      const size = 100 * 1024 * 1024;
      const start = await fetch(`${ctx.proxy.url}/upload/v1beta/files`, {
        method: "POST",
        headers: {
          "x-goog-api-key": TEST_TOKEN,
          "x-goog-upload-protocol": "resumable",
          "x-goog-upload-command": "start",
          "x-goog-upload-header-content-length": String(size),
          "x-goog-upload-header-content-type": "application/octet-stream",
          "content-type": "application/json",
        },
        body: JSON.stringify({ file: { displayName: "big" } }),
      });
      await start.body?.cancel();
      const uploadUrl = start.headers.get("x-goog-upload-url")!;
      assert(uploadUrl.startsWith(ctx.proxy.url), `rewritten to the proxy: ${uploadUrl}`);
      const piece = new Uint8Array(1024 * 1024).fill(7);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= size) return controller.close();
          controller.enqueue(piece);
          sent += piece.byteLength;
        },
      });
      const final = await fetch(uploadUrl, {
        method: "POST",
        headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
        body,
        // @ts-ignore: fetch needs `duplex` for a streamed body.
        duplex: "half",
      });
      assertEquals(final.status, 200);
      assertEquals(final.headers.get("x-goog-upload-status"), "final");
      const file = (await final.json()).file;
      assertEquals(file.sizeBytes, String(size));
      const chunk = ctx.fake.requests.at(-1)!;
      assertEquals(chunk.bodyBytes, size);
      assertEquals(chunk.key, ctx.fake.requests[0]!.key);
    }));
}
