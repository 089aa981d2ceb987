/**
 * Hostile input: every case gets a clear answer, the process keeps serving, the upstream host
 * never changes and no key leaks.
 */
import { assert, assertEquals } from "./support/assert.ts";
import { TOKEN } from "./support/harness.ts";
import { assertEnvelope, assertNoLeak, get, raw, withHarness } from "./support/hostile.ts";

Deno.test("path traversal and encoded separators are refused without reaching upstream", () =>
  withHarness(async (h) => {
    const cases: [string, number][] = [
      // URL parsing turns %2e%2e into a dot segment: what is left is not an API path.
      ["/v1beta/%2e%2e/%2e%2e/admin/api/keys", 404],
      ["/v1beta/models%2f..%2f..%2fadmin", 400],
      ["/v1beta/models%5c..%5cx", 400],
      ["/v1beta/../admin/api/keys", 404],
      ["/v1beta/../../etc/passwd", 404],
    ];
    for (const [path, status] of cases) {
      const { status: got, text } = await raw(h, get(path));
      assertEquals(got, status, path);
      assertEnvelope(text, status);
      assertNoLeak(h, text);
    }
    assertEquals(h.fake.requests.length, 0);
  }));

Deno.test("absolute URLs, '@' and '//' in paths never change the upstream host", () =>
  withHarness(async (h) => {
    for (
      const path of [
        "http://evil.example.com/v1beta/models",
        "//evil.example.com/v1beta/models",
        "/v1beta/models@evil.example.com/x",
        "/v1beta//evil.example.com/models",
      ]
    ) {
      const { status, text } = await raw(h, get(path));
      assert(status >= 200 && status < 500, `${path}: ${status}`);
      assertNoLeak(h, text);
    }
    for (const r of h.fake.requests) assertEquals(r.headers.host, new URL(h.fake.url).host);
  }));

Deno.test("unknown methods get 405 in Google's envelope", () =>
  withHarness(async (h) => {
    for (const method of ["FOO", "TRACE", "CONNECTX"]) {
      const { status, text } = await raw(
        h,
        `${method} /v1beta/models HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\nConnection: close\r\n\r\n`,
      );
      assert(status === 405 || status === 400, `${method}: ${status}`);
      if (status === 405) assertEnvelope(text, 405);
    }
    assertEquals(h.fake.requests.length, 0);
  }));

Deno.test("CRLF injection, huge and duplicate headers are refused and the server keeps serving", () =>
  withHarness(async (h) => {
    const crlf = await raw(h, get("/v1beta/models", "X-Bad: a\rInjected: b\r\n"));
    assertEquals(crlf.status, 400);
    const huge = await raw(h, get("/v1beta/models", `X-Big: ${"a".repeat(40_000)}\r\n`));
    assertEquals(huge.status, 431);
    assertEnvelope(huge.text, 431);
    const enormous = await raw(h, get("/v1beta/models", `X-Big: ${"a".repeat(500_000)}\r\n`));
    assert(
      enormous.status === 431 || enormous.status === 400 || enormous.status === 0,
      `got ${enormous.status}`,
    );
    const many = await raw(
      h,
      get("/v1beta/models", Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join("")),
    );
    assert(many.status === 200 || many.status === 431 || many.status === 400, `got ${many.status}`);
    const dup = await raw(h, get("/v1beta/models", "x-goog-api-key: gp-other\r\n"));
    assertEquals(dup.status, 401);
    assertEnvelope(dup.text, 401);
  }));

Deno.test("malformed, deeply nested and non-UTF-8 JSON get a 400 envelope", () =>
  withHarness(async (h) => {
    const bodies: (string | Uint8Array<ArrayBuffer>)[] = [
      "{",
      '{"model": "gemini-2.5-flash", "messages": [',
      "[".repeat(200_000) + "]".repeat(200_000),
      new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      "",
    ];
    for (const body of bodies) {
      const response = await fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body,
      });
      const text = await response.text();
      if (body === "") {
        assert(response.status < 500, `empty body: ${response.status}`);
        continue;
      }
      assertEquals(response.status, 400, text.slice(0, 200));
      assertEquals(JSON.parse(text).error.status, "INVALID_ARGUMENT");
    }
    assertEquals(h.fake.requests.filter((r) => r.path.includes("openai")).length, 1);
  }));

Deno.test("bodies over the limit get 413 without the rest being read", () =>
  withHarness(async (h) => {
    const declared = await raw(
      h,
      `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n{`,
    );
    assertEquals(declared.status, 413);
    assertEnvelope(declared.text, 413);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 65536;
        if (pulled > 64 * 1024 * 1024) return controller.close();
        controller.enqueue(new Uint8Array(65536));
      },
    });
    const streamed = await fetch(`${h.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN },
      body: endless,
      // @ts-ignore: fetch needs `duplex` for a streamed body.
      duplex: "half",
    }).catch(() => null);
    if (streamed) {
      assertEquals(streamed.status, 413);
      await streamed.body?.cancel();
    }
    assert(pulled < 16 * 1024 * 1024, `read ${pulled} bytes past a 1 MiB limit`);
  }, { MAX_BODY_BYTES: String(1024 * 1024) }));

Deno.test("a body that trickles in too slowly gets 408", () =>
  withHarness(async (h) => {
    const head =
      `POST /v1beta/openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"model":`;
    // The whole answer, however many writes it arrives in.
    const { text } = await raw(h, head);
    assert(text.startsWith("HTTP/1.1 408"), text.slice(0, 80));
    assertEnvelope(text, 408);
  }, { BODY_TIMEOUT_MS: "300" }));

Deno.test("a token in every allowed place at once works; different tokens are refused", () =>
  withHarness(async (h) => {
    const same = await fetch(`${h.proxy.url}/v1beta/models?key=${TOKEN}`, {
      headers: { "x-goog-api-key": TOKEN, authorization: `Bearer ${TOKEN}` },
    });
    assertEquals(same.status, 200);
    await same.body?.cancel();
    const upstream = h.fake.requests.at(-1)!;
    assertEquals(upstream.search, "");
    assertEquals(upstream.headers["authorization"], undefined);
    const mixed = await fetch(`${h.proxy.url}/v1beta/models?key=gp-other`, {
      headers: { "x-goog-api-key": TOKEN },
    });
    assertEquals(mixed.status, 400);
    assertEquals((await mixed.json()).error.status, "INVALID_ARGUMENT");
  }));

Deno.test("SSRF: the key query, host headers and upload URLs never redirect upstream", () =>
  withHarness(async (h) => {
    const response = await fetch(`${h.proxy.url}/v1beta/models`, {
      headers: {
        "x-goog-api-key": TOKEN,
        host: "evil.example.com",
        "x-forwarded-host": "evil.example.com",
      },
    });
    await response.body?.cancel();
    const bogus = await fetch(
      `${h.proxy.url}/upload/v1beta/files?upload_id=not-ours&upload_protocol=resumable`,
      {
        method: "POST",
        headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
        body: "x",
      },
    );
    assertEquals(bogus.status, 404, "unknown upload sessions are not forwarded");
    await bogus.body?.cancel();
    for (const r of h.fake.requests) assertEquals(r.headers.host, new URL(h.fake.url).host);
  }));

Deno.test("bad escapes and over-long paths, queries and model ids get a 4xx envelope, never a 500", () =>
  withHarness(async (h) => {
    const cases: [string, number][] = [
      ["/v1beta/models/gemini%ZZ:generateContent", 400],
      ["/v1beta/models/gemini%E0%A4%A:generateContent", 400],
      ["/v1beta/files/abc%FF", 400],
      ["/v1beta/models?pageToken=%ZZ", 400],
      [`/v1beta/files/${"a".repeat(3000)}`, 414],
      [`/v1beta/models?pageToken=${"a".repeat(9000)}`, 414],
      [`/v1beta/models/${"g".repeat(129)}:generateContent`, 400],
      [`/v1beta/models/${"g".repeat(1500)}:generateContent`, 400],
      ["/v1beta/models/Gemini-2.5-Flash:generateContent", 400],
      ["/v1beta/models/gemini%0Aflash:generateContent", 400],
      ["/v1beta/models/gemini-%C3%BC:generateContent", 400],
      ["/v1beta/models/gemini-%E2%80%AE:generateContent", 400],
      ["/v1beta/tunedModels/My_Model!:generateContent", 400],
    ];
    for (const [path, status] of cases) {
      const { status: got, text } = await raw(
        h,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      assertEquals(got, status, path.slice(0, 80));
      assertEnvelope(text, status);
      assertNoLeak(h, text);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      assert(body.length < 1000, `the answer quotes a clipped form: ${body.length} bytes`);
      assert(!/[\u0080-\uffff]/.test(body), "nothing outside ASCII is echoed");
    }
    assertEquals(h.fake.requests.length, 0, "no hostile path reached upstream");
  }));

Deno.test("hostile model names in OpenAI bodies get a 400 before any key is picked", () =>
  withHarness(async (h) => {
    const models: unknown[] = [
      123,
      null,
      { name: "gemini-2.5-flash" },
      ["gemini-2.5-flash"],
      true,
      "g".repeat(100_000),
      "gemini\u0000flash",
      "gemini-2.5-flash\r\nx-injected: 1",
      "gemini-\u202eflash",
      "модель",
      "",
      "models/../../admin",
    ];
    for (const model of models) {
      const response = await fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      });
      const text = await response.text();
      assertEquals(response.status, 400, `${JSON.stringify(model)?.slice(0, 40)}: ${text}`);
      const error = JSON.parse(text).error;
      assertEquals(error.status, "INVALID_ARGUMENT");
      assert(error.message.length < 300 && !/[^\x20-\x7e]/.test(error.message), error.message);
    }
    assertEquals(h.fake.requests.length, 0, "no hostile model reached upstream");
    const ok = await fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "models/gemini-2.5-flash",
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  }));

Deno.test("a body that escapes to more than a log page is logged clipped, and logging goes on", () =>
  withHarness(async (h) => {
    // With LOG_BODIES=all the record keeps the body's first 8,192 characters; control characters
    // are six characters each in JSON, and one wide character makes V8 store the whole record at
    // two bytes a character: about 98 KB, past Deno KV's 64 KiB value limit. Such a record was
    // refused, and its whole batch stayed queued for good.
    const hostile = "团" + "\u0001".repeat(9000);
    const response = await fetch(`${h.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
      body: hostile,
    });
    await response.body?.cancel();
    for (let i = 0; i < 20; i++) {
      const ok = await h.generate();
      await ok.body?.cancel();
      assertEquals(ok.status, 200);
    }
    await h.proxy.gateway.settle();
    const health = await (await fetch(`${h.proxy.url}/healthz`)).json();
    assertEquals([health.logs.written, health.logs.queued, health.logs.failing], [21, 0, false]);
  }, { LOG_BODIES: "all" }));
