/**
 * The proxy contract suite: every deployment target (Deno entry, Supabase Edge Function,
 * Cloudflare Worker) must pass it. It drives the proxy over real sockets with the official
 * `@google/genai` and `openai` clients and raw fetch, against the fake Gemini upstream.
 * @module
 */
import { GoogleGenAI, Modality } from "@google/genai";
import OpenAI from "openai";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./assert.ts";
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from "./fake_upstream.ts";
import { runHostileContract } from "./proxy_contract_hostile.ts";
import { runVerdictContract } from "./verdict_contract.ts";

/** What a target needs to start a proxy in front of the fake upstream. */
export interface TargetOptions {
  /** The fake upstream's base URL. */
  upstreamUrl: string;
  /** Gemini keys to configure. */
  keys: string[];
  /** Proxy tokens to configure. */
  tokens: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A running proxy under test. */
export interface ProxyTarget {
  /** Base URL clients use (including any function path prefix). */
  url: string;
  /** Log lines the proxy wrote, when the target can capture them. */
  logs: string[];
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a proxy for one test. */
export type StartTarget = (options: TargetOptions) => Promise<ProxyTarget>;

/** Cases a target cannot pass because of its platform, each with the reason, shown as skipped. */
export interface ContractSkips {
  /** The Live API WebSocket relay. */
  live?: string;
  /** A 100 MB upload chunk streamed through. */
  hugeUpload?: string;
}

/** Options of {@linkcode runProxyContract}. */
export interface ContractOptions {
  /** Cases to skip, with the platform's reason. */
  skip?: ContractSkips;
}

/** Obviously fake keys (they never reach Google). */
export const TEST_KEYS = [
  "AIzaFAKE-TEST-key-000000000000000000001",
  "AIzaFAKE-TEST-key-000000000000000000002",
  "AIzaFAKE-TEST-key-000000000000000000003",
];
/** The proxy token clients use in the suite. */
export const TEST_TOKEN = "gp-TEST-contract-token-0001";

const MODEL = "gemini-2.5-flash";

interface Ctx {
  fake: FakeUpstream;
  proxy: ProxyTarget;
}

/** An SSE body with the fake's random ids and times blanked out, to compare two answers. */
function withoutIds(sse: string): string {
  return sse.replace(/"id":"[A-Za-z0-9]+"/g, '"id":"-"').replace(/"created":\d+/g, '"created":0');
}

/** Finds the upstream record of a response relayed by the proxy. */
function recordOf(fake: FakeUpstream, response: Response): RecordedRequest {
  const index = Number(response.headers.get("x-fake-request-index"));
  const record = fake.requests[index];
  assert(record, `no upstream record for index ${index}`);
  return record;
}

/**
 * Registers the contract tests for one target.
 * @param name Target name used in test names.
 * @param start Starts the target.
 * @param options Cases the target's platform cannot pass, with the reason (printed as ignored).
 */
export function runProxyContract(
  name: string,
  start: StartTarget,
  options: ContractOptions = {},
): void {
  /** A case's test name and options: skipped when the platform gives a reason (in the name). */
  function unless(reason: string | undefined, title: string): [string, { ignore: boolean }] {
    return reason === undefined
      ? [`${name}: ${title}`, { ignore: false }]
      : [`${name}: ${title} (skipped: ${reason})`, { ignore: true }];
  }
  const live = unless(
    options.skip?.live,
    "@google/genai live.connect relays frames both ways with the key swapped",
  );
  const hugeUpload = unless(options.skip?.hugeUpload, "a 100 MB upload chunk streams through");

  async function withProxy(
    fn: (ctx: Ctx) => Promise<void>,
    setup: {
      keys?: string[];
      env?: Record<string, string>;
      fake?: Parameters<typeof startFakeUpstream>[0];
    } = {},
  ): Promise<void> {
    const fake = await startFakeUpstream(setup.fake);
    let proxy: ProxyTarget | undefined;
    try {
      proxy = await start({
        upstreamUrl: fake.url,
        keys: setup.keys ?? TEST_KEYS,
        tokens: [TEST_TOKEN],
        env: setup.env ?? {},
      });
      await fn({ fake, proxy });
      // No key may reach a client or a log line, whatever the test did.
      for (const line of proxy.logs) {
        for (const key of TEST_KEYS) assertNotIncludes(line, key, "log line");
        assertNotIncludes(line, TEST_TOKEN, "log line");
      }
    } finally {
      await proxy?.close();
      await fake.close();
    }
  }

  function genai(ctx: Ctx): GoogleGenAI {
    return new GoogleGenAI({ apiKey: TEST_TOKEN, httpOptions: { baseUrl: ctx.proxy.url } });
  }
  function openai(ctx: Ctx): OpenAI {
    return new OpenAI({
      apiKey: TEST_TOKEN,
      baseURL: `${ctx.proxy.url}/v1beta/openai/`,
      maxRetries: 0,
    });
  }
  function assertUpstreamSawOnlyRealKeys(fake: FakeUpstream): void {
    assert(fake.requests.length > 0, "upstream saw requests");
    for (const r of fake.requests) {
      if (r.key !== null) assert(TEST_KEYS.includes(r.key), `upstream saw key ${r.key}`);
      assertNotIncludes(JSON.stringify(r.headers) + r.search, TEST_TOKEN, "upstream request");
    }
  }

  Deno.test(`${name}: @google/genai generateContent gets upstream's answer with a real key swapped in`, () =>
    withProxy(async (ctx) => {
      const result = await genai(ctx).models.generateContent({
        model: MODEL,
        contents: "why is the sky blue?",
      });
      const record = ctx.fake.requests.at(-1)!;
      assert(record.path.endsWith(`/models/${MODEL}:generateContent`), record.path);
      const upstream = JSON.parse(record.responseBody);
      assertEquals(result.text, upstream.candidates[0].content.parts[0].text);
      assertEquals(result.usageMetadata, upstream.usageMetadata);
      assertEquals(record.headers["authorization"], undefined);
      assertUpstreamSawOnlyRealKeys(ctx.fake);
    }));

  Deno.test(`${name}: @google/genai streams generateContentStream chunk by chunk`, () =>
    withProxy(async (ctx) => {
      const texts: string[] = [];
      const stream = await genai(ctx).models.generateContentStream({
        model: MODEL,
        contents: "count to three",
      });
      for await (const chunk of stream) texts.push(chunk.text ?? "");
      const record = ctx.fake.requests.at(-1)!;
      await record.done;
      assertEquals(record.search, "?alt=sse");
      const sent = record.responseBody.split("\r\n\r\n").filter(Boolean).map((frame) =>
        JSON.parse(frame.replace(/^data: /, "")).candidates[0].content.parts?.[0]?.text ?? ""
      );
      assertEquals(texts, sent);
      assert(texts.length >= 3);
    }));

  Deno.test(`${name}: @google/genai countTokens and embedContent pass through`, () =>
    withProxy(async (ctx) => {
      const ai = genai(ctx);
      const count = await ai.models.countTokens({ model: MODEL, contents: "one two three four" });
      assertEquals(
        count.totalTokens,
        JSON.parse(ctx.fake.requests.at(-1)!.responseBody).totalTokens,
      );
      const embedded = await ai.models.embedContent({
        model: "gemini-embedding-001",
        contents: "hello",
      });
      const sent = JSON.parse(ctx.fake.requests.at(-1)!.responseBody);
      assertEquals(
        embedded.embeddings?.[0]?.values,
        (sent.embeddings?.[0] ?? sent.embedding).values,
      );
      assertUpstreamSawOnlyRealKeys(ctx.fake);
    }));

  Deno.test(`${name}: @google/genai files.upload goes through the proxy on the key that started it`, () =>
    withProxy(async (ctx) => {
      const ai = genai(ctx);
      const file = await ai.files.upload({
        file: new Blob(["hello upload through the proxy"], { type: "text/plain" }),
        config: { mimeType: "text/plain", displayName: "greeting" },
      });
      assert(file.name?.startsWith("files/"), `got ${file.name}`);
      const uploads = ctx.fake.requests.filter((r) => r.path.startsWith("/upload/"));
      assert(uploads.length >= 2, "start and at least one chunk reached upstream");
      const startKey = uploads[0]!.key;
      assert(startKey && TEST_KEYS.includes(startKey));
      for (const chunk of uploads.slice(1)) {
        assert(chunk.search.includes("upload_id="), "chunk went to the upload URL");
        if (chunk.key !== null) assertEquals(chunk.key, startKey);
      }
      assertEquals(
        uploads.reduce((n, r) => n + (r.search.includes("upload_id") ? r.bodyBytes : 0), 0),
        30,
      );
      const got = await ai.files.get({ name: file.name! });
      assertEquals(got.displayName, "greeting");
      assertUpstreamSawOnlyRealKeys(ctx.fake);
    }));

  Deno.test(...live, () =>
    withProxy(async (ctx) => {
      const messages: string[] = [];
      let closed!: (e: { code: number; reason: string }) => void;
      const closedP = new Promise<{ code: number; reason: string }>((r) => closed = r);
      let turnDone!: () => void;
      const turnDoneP = new Promise<void>((r) => turnDone = r);
      const session = await genai(ctx).live.connect({
        model: "gemini-2.0-flash-live-001",
        config: { responseModalities: [Modality.TEXT] },
        callbacks: {
          onmessage: (m) => {
            const text = m.serverContent?.modelTurn?.parts?.[0]?.text;
            if (text) messages.push(text);
            if (m.serverContent?.turnComplete) turnDone();
          },
          onclose: (e) => closed({ code: e.code, reason: e.reason }),
        },
      });
      session.sendClientContent({
        turns: [{ role: "user", parts: [{ text: "hello live" }] }],
        turnComplete: true,
      });
      await turnDoneP;
      assertStringIncludes(messages.join(""), "hello live");
      session.conn.send(JSON.stringify({ close: { code: 4001, reason: "bye" } }));
      const event = await closedP;
      assertEquals([event.code, event.reason], [4001, "bye"]);
      const ws = ctx.fake.requests.find((r) => r.path.includes("/ws/"))!;
      assert(ws.key && TEST_KEYS.includes(ws.key), "upstream got a real key in the query");
      assertNotIncludes(ws.search, TEST_TOKEN);
    }));

  Deno.test(`${name}: openai SDK chat, streaming chat, embeddings and models.list pass through`, () =>
    withProxy(async (ctx) => {
      const client = openai(ctx);
      const chat = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: "hi there" }],
      });
      assertEquals(chat, JSON.parse(ctx.fake.requests.at(-1)!.responseBody));
      const deltas: string[] = [];
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: "stream please" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta?.content ?? "");
      assert(deltas.join("").length > 0);
      const embeddings = await client.embeddings.create({
        model: "gemini-embedding-001",
        input: "hello",
      });
      assertEquals(embeddings, JSON.parse(ctx.fake.requests.at(-1)!.responseBody));
      const models = [];
      for await (const model of client.models.list()) models.push(model.id);
      assert(models.includes(`models/${MODEL}`));
      for (const r of ctx.fake.requests) {
        assertEquals(r.headers["authorization"]?.startsWith("Bearer AIzaFAKE-TEST"), true);
        assertEquals(r.headers["x-goog-api-key"], undefined);
      }
    }));

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

  Deno.test(`${name}: a streamed chunk reaches the client before upstream sends the next`, () =>
    withProxy(async (ctx) => {
      const hold = ctx.fake.holdStreamChunk(1);
      const response = await fetch(
        `${ctx.proxy.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
        {
          method: "POST",
          headers: { "x-goog-api-key": TEST_TOKEN, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "slowly" }] }] }),
        },
      );
      assertEquals(response.headers.get("content-type"), "text/event-stream");
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let received = "";
      while (!received.includes("\r\n\r\n")) {
        const { value, done } = await reader.read();
        assert(!done, "stream ended early");
        received += value;
      }
      await hold.reached;
      assertEquals(
        received.split("\r\n\r\n").filter(Boolean).length,
        1,
        "exactly one chunk while upstream holds the second",
      );
      hold.release();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received += value;
      }
      const record = recordOf(ctx.fake, response);
      await record.done;
      assertEquals(received, record.responseBody);
      assertNotIncludes(received, ": keepalive");
    }, { fake: { streamChunks: 4 } }));

  Deno.test(`${name}: a client that disconnects mid-stream aborts the upstream request`, () =>
    withProxy(async (ctx) => {
      const hold = ctx.fake.holdStreamChunk(1);
      const controller = new AbortController();
      const response = await fetch(
        `${ctx.proxy.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
        {
          method: "POST",
          headers: { "x-goog-api-key": TEST_TOKEN, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "then leave" }] }] }),
          signal: controller.signal,
        },
      );
      const reader = response.body!.getReader();
      await reader.read();
      await hold.reached;
      controller.abort();
      await reader.cancel().catch(() => {});
      hold.release();
      const record = ctx.fake.requests.at(-1)!;
      await record.done;
      assert(record.cancelled, "upstream saw the request cancelled");
    }, { fake: { streamChunks: 20 } }));

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

  runVerdictContract(name, start);
  runHostileContract(name, start, {
    keys: TEST_KEYS,
    token: TEST_TOKEN,
    skipLive: options.skip?.live,
  });
}
