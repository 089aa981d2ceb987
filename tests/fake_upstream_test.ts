import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { GoogleGenAI, Modality } from "@google/genai";
import OpenAI from "openai";
import {
  countFakeTokens,
  type Failure,
  fakeEmbedding,
  type FakeUpstream,
  type FakeUpstreamOptions,
  startFakeUpstream,
} from "./fake_upstream.ts";

const KEY_1 = "AIzaFAKE-TEST-key-000000000000000000001";
const KEY_2 = "AIzaFAKE-TEST-key-000000000000000000002";
const MODEL = "gemini-2.5-flash";
const GEN_BODY = JSON.stringify({
  contents: [{ role: "user", parts: [{ text: "why is the sky blue" }] }],
});

async function withFake(
  fn: (fake: FakeUpstream) => Promise<void>,
  options?: FakeUpstreamOptions,
): Promise<void> {
  const fake = await startFakeUpstream(options);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

interface CallOptions {
  method?: string;
  key?: string | null;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** Fetches from the fake and always reads the body, so no stream leaks. */
async function call(
  fake: FakeUpstream,
  path: string,
  opts: CallOptions = {},
): Promise<{ res: Response; text: string; json: () => Record<string, unknown> }> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY_1 : opts.key;
  if (key !== null) headers["x-goog-api-key"] = key;
  if (opts.body !== undefined && !headers["content-type"]) {
    headers["content-type"] = "application/json";
  }
  const init: RequestInit = { method: opts.method ?? (opts.body ? "POST" : "GET"), headers };
  if (opts.body !== undefined) init.body = opts.body;
  const res = await fetch(`${fake.url}${path}`, init);
  const text = await res.text();
  return { res, text, json: () => JSON.parse(text) };
}

function genai(fake: FakeUpstream, apiKey = KEY_1): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.url } });
}

function openai(fake: FakeUpstream, apiKey = KEY_1): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${fake.url}/v1beta/openai/`, maxRetries: 0 });
}

// deno-lint-ignore no-explicit-any -- error envelopes are checked field by field
type Envelope = { error: { code: number; status: string; message: string; details?: any[] } };

function detail(envelope: Envelope, type: string): Record<string, unknown> | undefined {
  return envelope.error.details?.find((d) =>
    d["@type"] === `type.googleapis.com/google.rpc.${type}`
  );
}

Deno.test("fake upstream answers @google/genai generateContent with an echo and predictable usage", () =>
  withFake(async (fake) => {
    const result = await genai(fake).models.generateContent({
      model: MODEL,
      contents: "why is the sky blue",
    });
    assertEquals(result.text, "Echo: why is the sky blue");
    assertEquals(result.usageMetadata?.promptTokenCount, 5);
    assertEquals(result.usageMetadata?.candidatesTokenCount, 6);
    assertEquals(result.usageMetadata?.totalTokenCount, 11);
    assertEquals(result.candidates?.[0]?.finishReason, "STOP");
    assertEquals(result.modelVersion, MODEL);
    const record = fake.requests[0]!;
    // @google/genai 3.x defaults to API version v1, not v1beta.
    assertEquals(record.path, `/v1/models/${MODEL}:generateContent`);
    assertEquals(record.key, KEY_1);
    assertEquals(record.headers["x-goog-api-key"], KEY_1);
    assertEquals(record.responseStatus, 200);
    assertEquals(JSON.parse(record.responseBody).responseId, result.responseId);
    assert(record.responseBody.startsWith('{\n  "candidates": ['), "pretty-printed like Google");
  }));

Deno.test("fake upstream streams @google/genai generateContentStream chunks that add up to the echo", () =>
  withFake(async (fake) => {
    const texts: string[] = [];
    const totals: (number | undefined)[] = [];
    const stream = await genai(fake).models.generateContentStream({
      model: MODEL,
      contents: "count one two three four",
    });
    for await (const chunk of stream) {
      texts.push(chunk.text ?? "");
      totals.push(chunk.usageMetadata?.totalTokenCount);
    }
    assertEquals(texts.length, 4);
    assertEquals(texts.join(""), "Echo: count one two three four");
    assertEquals(totals, [5 + 2, 5 + 3, 5 + 5, 5 + 6]);
    assertEquals(fake.requests[0]!.search, "?alt=sse");
  }, { streamChunks: 4 }));

Deno.test("fake upstream counts tokens and embeds deterministically for @google/genai", () =>
  withFake(async (fake) => {
    const ai = genai(fake);
    const count = await ai.models.countTokens({ model: MODEL, contents: "one two three four" });
    assertEquals(count.totalTokens, 4);
    const embedded = await ai.models.embedContent({
      model: "gemini-embedding-001",
      contents: "hello",
      config: { outputDimensionality: 4 },
    });
    assertEquals(embedded.embeddings?.[0]?.values, fakeEmbedding("hello", 4));
    const defaults = await ai.models.embedContent({
      model: "text-embedding-004",
      contents: ["a", "b"],
    });
    assertEquals(defaults.embeddings?.map((e) => e.values), [
      fakeEmbedding("a"),
      fakeEmbedding("b"),
    ]);
    assert(fakeEmbedding("a").every((v) => Math.abs(v) <= 0.1));
    assertEquals(
      fake.requests.map((r) => r.path),
      [
        `/v1/models/${MODEL}:countTokens`,
        // The SDK sends embedContent as batchEmbedContents, even for one text.
        "/v1/models/gemini-embedding-001:batchEmbedContents",
        "/v1/models/text-embedding-004:batchEmbedContents",
      ],
    );
  }));

Deno.test("fake upstream takes @google/genai files.upload through the resumable protocol", () =>
  withFake(async (fake) => {
    const ai = genai(fake);
    const content = "hello upload, fake edition";
    const file = await ai.files.upload({
      file: new Blob([content], { type: "text/plain" }),
      config: { mimeType: "text/plain", displayName: "greeting" },
    });
    assert(file.name?.startsWith("files/"));
    assertEquals(file.sizeBytes, String(content.length));
    assertEquals(file.state, "ACTIVE");
    assertEquals(file.uri, `${fake.url}/v1beta/${file.name}`);
    assertEquals(fake.requests[0]!.path, "/upload/v1/files");
    const hex = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(content))),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assertEquals(file.sha256Hash, btoa(hex));
    const [start, chunk] = fake.requests;
    assertEquals(start!.headers["x-goog-upload-protocol"], "resumable");
    assertEquals(start!.headers["x-goog-upload-command"], "start");
    assert(chunk!.search.startsWith("?upload_id="));
    assertEquals(chunk!.headers["x-goog-upload-command"], "upload, finalize");
    assertEquals(chunk!.bodyBytes, content.length);
    const got = await ai.files.get({ name: file.name! });
    assertEquals(got.displayName, "greeting");
    await assertRejectsStatus(genai(fake, KEY_2).files.get({ name: file.name! }), 403);
  }));

Deno.test("fake upstream creates cachedContents for @google/genai and keeps them to their key", () =>
  withFake(async (fake) => {
    const cache = await genai(fake).caches.create({
      model: MODEL,
      config: { contents: "a long shared preamble of seven words", ttl: "300s" },
    });
    assert(cache.name?.startsWith("cachedContents/"));
    assertEquals(cache.usageMetadata?.totalTokenCount, 7);
    assert(cache.expireTime && cache.createTime && cache.updateTime);
    const reused = await genai(fake).models.generateContent({
      model: MODEL,
      contents: "and now the question",
      config: { cachedContent: cache.name! },
    });
    assertEquals(reused.usageMetadata?.cachedContentTokenCount, 7);
    assertEquals(reused.usageMetadata?.promptTokenCount, 4 + 7);
    const other = genai(fake, KEY_2);
    await assertRejectsStatus(other.caches.get({ name: cache.name! }), 403);
    await assertRejectsStatus(
      other.models.generateContent({
        model: MODEL,
        contents: "steal",
        config: { cachedContent: cache.name! },
      }),
      403,
    );
  }));

async function assertRejectsStatus(promise: Promise<unknown>, status: number): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assertEquals((err as { status?: number }).status, status);
    return;
  }
  throw new Error(`expected a ${status} rejection`);
}

Deno.test("fake upstream serves @google/genai live.connect on its //ws/ URL and echoes turns", () =>
  withFake(async (fake) => {
    const texts: string[] = [];
    const turnDone = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<{ code: number; reason: string }>();
    const session = await genai(fake).live.connect({
      model: "gemini-2.0-flash-live-001",
      config: { responseModalities: [Modality.TEXT] },
      callbacks: {
        onmessage: (m) => {
          const text = m.serverContent?.modelTurn?.parts?.[0]?.text;
          if (text) texts.push(text);
          if (m.serverContent?.turnComplete) turnDone.resolve();
        },
        onclose: (e) => closed.resolve({ code: e.code, reason: e.reason }),
      },
    });
    session.sendClientContent({
      turns: [{ role: "user", parts: [{ text: "hello live" }] }],
      turnComplete: true,
    });
    await turnDone.promise;
    assertEquals(texts, ["Echo: hello live"]);
    session.conn.send(JSON.stringify({ close: { code: 4001, reason: "bye" } }));
    assertEquals(await closed.promise, { code: 4001, reason: "bye" });
    const record = fake.requests[0]!;
    // js-genai joins "ws://host:port/" and "/ws/...", hence the double slash.
    assertEquals(
      record.path,
      "//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent",
    );
    assertEquals(record.key, KEY_1);
    assertEquals(record.responseStatus, 101);
    await record.done;
    const frames = record.responseBody.split("\n").map((f) => JSON.parse(f));
    assertEquals(frames[0], { setupComplete: {} });
    assertEquals(frames[2].usageMetadata.totalTokenCount, 2 + 3);
  }));

function liveUrl(fake: FakeUpstream, query: string): string {
  return `${
    fake.url.replace("http:", "ws:")
  }/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent${query}`;
}

async function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  const event = await new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  return { code: event.code, reason: event.reason };
}

Deno.test("fake upstream closes a Live socket with 1008 when the key is missing or invalid", () =>
  withFake(async (fake) => {
    const noKey = new WebSocket(liveUrl(fake, ""));
    const first = await closeOf(noKey);
    assertEquals(first.code, 1008);
    assert(first.reason.startsWith("Method doesn't allow unregistered callers"));
    fake.validKeys.add(KEY_1);
    const badKey = new WebSocket(liveUrl(fake, `?key=${KEY_2}`));
    assertEquals(await closeOf(badKey), {
      code: 1008,
      reason: "API key not valid. Please pass a valid API key.",
    });
    fake.failFor(KEY_1, { kind: "quota", scope: "minute" });
    const limited = new WebSocket(liveUrl(fake, `?key=${KEY_1}`));
    limited.onopen = () =>
      limited.send(JSON.stringify({ setup: { model: "models/gemini-2.0-flash-live-001" } }));
    const third = await closeOf(limited);
    assertEquals(third.code, 1011);
    assert(third.reason.startsWith("You exceeded your current quota"));
    assertEquals(fake.requests.map((r) => r.key), [null, KEY_2, KEY_1]);
  }));

Deno.test("fake upstream answers the openai SDK's chat, streaming chat, embeddings and models", () =>
  withFake(async (fake) => {
    const client = openai(fake);
    const chat = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi there" }],
    });
    assertEquals(chat.choices[0]?.message.content, "Echo: hi there");
    assertEquals(chat.usage, { completion_tokens: 3, prompt_tokens: 4, total_tokens: 7 });
    assertEquals(chat, JSON.parse(fake.requests[0]!.responseBody));
    assertEquals(fake.requests[0]!.key, KEY_1);
    assertEquals(fake.requests[0]!.headers["authorization"], `Bearer ${KEY_1}`);

    const deltas: string[] = [];
    let usage: unknown;
    const stream = await client.chat.completions.create({
      model: `models/${MODEL}`,
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.delta?.content ?? "");
      if (chunk.usage) usage = chunk.usage;
    }
    assertEquals(deltas.join(""), "Echo: stream please");
    assertEquals(usage, { completion_tokens: 3, prompt_tokens: 2, total_tokens: 5 });
    await fake.requests[1]!.done;
    assert(fake.requests[1]!.responseBody.endsWith("\n\ndata: [DONE]\n\n"));
    // Like OpenAI: `usage: null` on every content chunk, then a chunk with only the usage.
    const sent = fake.requests[1]!.responseBody.split("\n\n").filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)));
    assertEquals(sent.slice(0, -1).map((c) => [c.usage, c.choices.length]), [[null, 1], [null, 1], [
      null,
      1,
    ]]);
    assertEquals([sent.at(-1).choices, sent.at(-1).usage.total_tokens], [[], 5]);
    const plain = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "no usage" }],
      stream: true,
    });
    for await (const chunk of plain) assertEquals("usage" in chunk, false);

    const embeddings = await client.embeddings.create({
      model: "gemini-embedding-001",
      input: ["hello", "world"],
    });
    assertEquals(
      embeddings.data.map((d) => Array.from(d.embedding)),
      [fakeEmbedding("hello"), fakeEmbedding("world")],
    );
    const models: string[] = [];
    for await (const model of client.models.list()) models.push(model.id);
    assert(models.includes(`models/${MODEL}`));
    const one = await client.models.retrieve(MODEL);
    assertEquals(one, { id: `models/${MODEL}`, object: "model", owned_by: "google" });
  }));

Deno.test("fake upstream streams SSE chunks with CRLF framing and cumulative usage", () =>
  withFake(async (fake) => {
    const { res, text } = await call(
      fake,
      `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
      {
        body: GEN_BODY,
      },
    );
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/event-stream");
    assertEquals(res.headers.get("content-disposition"), "attachment");
    const frames = text.split("\r\n\r\n");
    assertEquals(frames.pop(), "", "body ends with CRLF CRLF");
    assertEquals(frames.length, 3);
    const chunks = frames.map((f) => {
      assert(f.startsWith("data: {") && !f.includes("\n"), "one data line per chunk");
      return JSON.parse(f.slice("data: ".length));
    });
    const ids = new Set(chunks.map((c) => c.responseId));
    assertEquals(ids.size, 1);
    assert(chunks.every((c) => c.modelVersion === MODEL));
    assertEquals(chunks.map((c) => c.usageMetadata.totalTokenCount), [7, 9, 11]);
    assertEquals(chunks.map((c) => c.candidates[0].finishReason), [undefined, undefined, "STOP"]);
    assertEquals(
      chunks.map((c) => c.candidates[0].content.parts[0].text).join(""),
      "Echo: why is the sky blue",
    );
    // Google's one-line JSON puts a space after colons but none after commas.
    assert(frames[0]!.startsWith('data: {"candidates": [{"content": {"parts": [{"text": '));
    assertEquals(fake.requests[0]!.responseBody, text);
  }));

Deno.test("fake upstream streams a JSON array progressively without alt=sse", () =>
  withFake(async (fake) => {
    const hold = fake.holdStreamChunk(1);
    const res = await fetch(`${fake.url}/v1beta/models/${MODEL}:streamGenerateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY_1, "content-type": "application/json" },
      body: GEN_BODY,
    });
    assertEquals(res.headers.get("content-type"), "application/json; charset=UTF-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await hold.reached;
    const first = await reader.read();
    assert(first.value?.startsWith("[{\n  "), "first element opens the array");
    hold.release();
    let text = first.value ?? "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    assert(text.endsWith("\n]"));
    assertEquals(text.split("\n,\r\n").length, 3);
    const parsed = JSON.parse(text);
    assertEquals(parsed.length, 3);
    assertEquals(parsed[2].candidates[0].finishReason, "STOP");
    assertEquals(fake.requests[0]!.responseBody, text);
  }));

Deno.test("fake upstream holds a stream chunk until released, even gzip-compressed", () =>
  withFake(async (fake) => {
    const hold = fake.holdStreamChunk(1);
    const res = await fetch(`${fake.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY_1, "accept-encoding": "gzip" },
      body: GEN_BODY,
    });
    assertEquals(res.headers.get("content-encoding"), "gzip");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await hold.reached;
    // Chunk 0 must reach the client while chunk 1 is held: CompressionStream flushes per write.
    const first = await reader.read();
    assert(first.value?.startsWith("data: ") && first.value.endsWith("\r\n\r\n"));
    assertEquals(first.value?.split("\r\n\r\n").length, 2, "exactly one chunk so far");
    assertEquals(fake.requests[0]!.done instanceof Promise, true);
    hold.release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
    assertEquals(rest.split("\r\n\r\n").length, 3);
    await fake.requests[0]!.done;
    assertEquals(fake.requests[0]!.responseBody, first.value + rest);
  }));

Deno.test("fake upstream gzips JSON when asked and records the uncompressed body", () =>
  withFake(async (fake) => {
    const zipped = await call(fake, "/v1beta/models", { headers: { "accept-encoding": "gzip" } });
    assertEquals(zipped.res.headers.get("content-encoding"), "gzip");
    assertEquals(zipped.text, fake.requests[0]!.responseBody);
    const plain = await call(fake, "/v1beta/models", {
      headers: { "accept-encoding": "identity" },
    });
    assertEquals(plain.res.headers.get("content-encoding"), null);
    assertEquals(plain.res.headers.get("vary"), "Origin, X-Origin, Referer");
    assertEquals(plain.res.headers.get("content-type"), "application/json; charset=UTF-8");
  }));

Deno.test("fake upstream does not gzip when created with gzip: false", () =>
  withFake(async (fake) => {
    const res = await call(fake, "/v1beta/models", { headers: { "accept-encoding": "gzip" } });
    assertEquals(res.res.headers.get("content-encoding"), null);
  }, { gzip: false }));

Deno.test("fake upstream notices a client that cancels mid-stream", () =>
  withFake(async (fake) => {
    const hold = fake.holdStreamChunk(2);
    const controller = new AbortController();
    const res = await fetch(`${fake.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": KEY_1 },
      body: GEN_BODY,
      signal: controller.signal,
    });
    await hold.reached;
    controller.abort();
    await res.body?.cancel().catch(() => {});
    const record = fake.requests[0]!;
    await record.done;
    assertEquals(record.cancelled, true);
    assertEquals(record.responseBody.split("\r\n\r\n").length, 3, "two chunks were sent");
    hold.release();
  }));

Deno.test("fake upstream refuses missing keys with 403 and non-OAuth bearers with 401", () =>
  withFake(async (fake) => {
    const missing = await call(fake, "/v1beta/models", { key: null });
    assertEquals(missing.res.status, 403);
    const envelope = missing.json() as unknown as Envelope;
    assertEquals(envelope.error.status, "PERMISSION_DENIED");
    assert(envelope.error.message.startsWith("Method doesn't allow unregistered callers"));
    assert(missing.text.startsWith('{\n  "error": {\n    "code": 403,'));

    const bearer = await call(fake, "/v1beta/models", {
      headers: { authorization: `Bearer ${KEY_1}` },
    });
    assertEquals(bearer.res.status, 401);
    assertEquals((bearer.json() as unknown as Envelope).error.status, "UNAUTHENTICATED");

    const viaQuery = await call(fake, `/v1beta/models?key=${KEY_2}`, { key: null });
    assertEquals(viaQuery.res.status, 200);
    assertEquals(fake.requests.map((r) => r.key), [null, KEY_1, KEY_2]);
    assertEquals(
      fake.requests.map((r) => r.responseStatus),
      [403, 401, 200],
    );
    assertEquals(missing.res.headers.get("x-fake-request-index"), "0");
    assertEquals(viaQuery.res.headers.get("x-fake-request-index"), "2");
  }));

Deno.test("fake upstream treats keys outside validKeys as invalid", () =>
  withFake(async (fake) => {
    fake.validKeys.add(KEY_1);
    assertEquals((await call(fake, "/v1beta/models")).res.status, 200);
    const bad = await call(fake, "/v1beta/models", { key: KEY_2 });
    assertEquals(bad.res.status, 400);
    assertEquals(detail(bad.json() as unknown as Envelope, "ErrorInfo")?.reason, "API_KEY_INVALID");
  }));

async function failOnce(fake: FakeUpstream, failure: Failure, path?: string) {
  fake.failFor(KEY_1, failure, { times: 1 });
  const result = await call(fake, path ?? `/v1beta/models/${MODEL}:generateContent`, {
    body: GEN_BODY,
  });
  return { status: result.res.status, envelope: result.json() as unknown as Envelope, res: result };
}

Deno.test("fake upstream fails with Google's invalid key, permission and location envelopes", () =>
  withFake(async (fake) => {
    const invalid = await failOnce(fake, { kind: "invalid_key" });
    assertEquals(invalid.status, 400);
    assertEquals(invalid.envelope.error.status, "INVALID_ARGUMENT");
    assertEquals(invalid.envelope.error.message, "API key not valid. Please pass a valid API key.");
    assertEquals(detail(invalid.envelope, "ErrorInfo")?.reason, "API_KEY_INVALID");

    const denied = await failOnce(fake, { kind: "permission_denied" });
    assertEquals([denied.status, denied.envelope.error.status], [403, "PERMISSION_DENIED"]);
    const disabled = await failOnce(fake, {
      kind: "permission_denied",
      reason: "SERVICE_DISABLED",
    });
    assertEquals(detail(disabled.envelope, "ErrorInfo")?.reason, "SERVICE_DISABLED");
    const blocked = await failOnce(fake, {
      kind: "permission_denied",
      reason: "API_KEY_SERVICE_BLOCKED",
    });
    assertEquals(detail(blocked.envelope, "ErrorInfo")?.reason, "API_KEY_SERVICE_BLOCKED");
    assert(blocked.envelope.error.message.includes("GenerativeService.GenerateContent"));
    const leaked = await failOnce(fake, { kind: "permission_denied", reason: "LEAKED" });
    assertEquals(
      leaked.envelope.error.message,
      "Your API key was reported as leaked. Please use another API key.",
    );

    const location = await failOnce(fake, { kind: "location" });
    assertEquals([location.status, location.envelope.error.status], [400, "FAILED_PRECONDITION"]);
    assertEquals(
      location.envelope.error.message,
      "User location is not supported for the API use.",
    );

    const bad = await failOnce(fake, { kind: "bad_request" });
    assertEquals([bad.status, bad.envelope.error.status], [400, "INVALID_ARGUMENT"]);
    const violations = detail(bad.envelope, "BadRequest")?.fieldViolations as unknown[];
    assertEquals(violations.length, 1);
    assertEquals(detail(bad.envelope, "ErrorInfo"), undefined);

    // times: 1 each, so the next request succeeds.
    assertEquals(
      (await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body: GEN_BODY }))
        .res.status,
      200,
    );
  }));

Deno.test("fake upstream fails with quota envelopes carrying the model and retry delay", () =>
  withFake(async (fake) => {
    const scopes = {
      minute: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      day: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
      tokens_minute: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
    } as const;
    for (const [scope, quotaId] of Object.entries(scopes)) {
      const { status, envelope } = await failOnce(fake, {
        kind: "quota",
        scope: scope as keyof typeof scopes,
        retryDelaySeconds: 38.52,
      });
      assertEquals([status, envelope.error.status], [429, "RESOURCE_EXHAUSTED"]);
      assert(envelope.error.message.endsWith("Please retry in 38.52s."));
      assert(envelope.error.message.includes(`model: ${MODEL}`));
      assertEquals(
        envelope.error.details?.map((d) => d["@type"].split(".").at(-1)),
        ["Help", "QuotaFailure", "RetryInfo"],
      );
      const violation =
        (detail(envelope, "QuotaFailure")?.violations as Record<string, unknown>[])[0]!;
      assertEquals(violation.quotaId, quotaId);
      assertEquals((violation.quotaDimensions as Record<string, string>).model, MODEL);
      assertEquals(detail(envelope, "RetryInfo")?.retryDelay, "38s");
    }
    const legacy = await failOnce(fake, { kind: "quota", scope: "minute", legacy: true });
    assertEquals(legacy.envelope, {
      error: {
        code: 429,
        message: "Resource has been exhausted (e.g. check quota).",
        status: "RESOURCE_EXHAUSTED",
      },
    });
  }));

Deno.test("fake upstream names the model Google resolved in a quota error when told to", () =>
  withFake(async (fake) => {
    const { envelope } = await failOnce(fake, {
      kind: "quota",
      scope: "minute",
      quotaModel: "gemini-2.5-flash-001",
    });
    const violation =
      (detail(envelope, "QuotaFailure")?.violations as Record<string, unknown>[])[0]!;
    assertEquals(
      (violation.quotaDimensions as Record<string, string>).model,
      "gemini-2.5-flash-001",
    );
    assert(envelope.error.message.includes("model: gemini-2.5-flash-001"));
  }));

Deno.test("fake upstream echoes an unknown field's name in its 400, as Google does", () =>
  withFake(async (fake) => {
    const hostile = "API key not valid. Please pass a valid API key.";
    const body = JSON.stringify({ contents: [{ parts: [{ text: "x" }] }], [hostile]: 1 });
    const { res, json } = await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body });
    assertEquals(res.status, 400);
    const { error } = json() as unknown as Envelope;
    assertEquals(
      error.message,
      `Invalid JSON payload received. Unknown name "${hostile}": Cannot find field.`,
    );
    assertEquals(error.details?.map((d) => d["@type"]), [
      "type.googleapis.com/google.rpc.BadRequest",
    ]);
    const known = JSON.stringify({
      contents: [{ parts: [{ text: "x" }] }],
      generation_config: { temperature: 0 },
      systemInstruction: { parts: [{ text: "be brief" }] },
    });
    const ok = await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body: known });
    assertEquals(ok.res.status, 200);
  }));

Deno.test("fake upstream fails with Google-shaped 500, 503 and 504", () =>
  withFake(async (fake) => {
    const expected = { 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED" } as const;
    for (const code of [500, 503, 504] as const) {
      const { status, envelope } = await failOnce(fake, { kind: "status", code });
      assertEquals([status, envelope.error.code, envelope.error.status], [
        code,
        code,
        expected[code],
      ]);
    }
    const overloaded = await failOnce(fake, { kind: "status", code: 503 });
    assertEquals(
      overloaded.envelope.error.message,
      "The model is overloaded. Please try again later.",
    );
  }));

Deno.test("fake upstream applies failures only to the matching key, model and count", () =>
  withFake(async (fake) => {
    fake.failFor(KEY_1, { kind: "status", code: 503 }, { model: "gemini-2.5-pro", times: 2 });
    const flash = `/v1beta/models/${MODEL}:generateContent`;
    const pro = "/v1beta/models/gemini-2.5-pro:generateContent";
    assertEquals((await call(fake, flash, { body: GEN_BODY })).res.status, 200);
    assertEquals((await call(fake, pro, { body: GEN_BODY, key: KEY_2 })).res.status, 200);
    assertEquals((await call(fake, pro, { body: GEN_BODY })).res.status, 503);
    assertEquals((await call(fake, pro, { body: GEN_BODY })).res.status, 503);
    assertEquals((await call(fake, pro, { body: GEN_BODY })).res.status, 200);
    fake.failAll({ kind: "quota", scope: "day" }, { model: "models/gemini-2.5-flash", times: 1 });
    const openaiRes = await call(fake, "/v1beta/openai/chat/completions", {
      key: null,
      headers: { authorization: `Bearer ${KEY_2}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "x" }] }),
    });
    assertEquals(openaiRes.res.status, 429);
    const wrapped = openaiRes.json() as unknown as Envelope[];
    assertEquals(wrapped[0]?.error.status, "RESOURCE_EXHAUSTED");
    fake.reset();
    assertEquals(fake.requests.length, 0);
    assertEquals(
      (await call(fake, pro, { body: GEN_BODY })).res.headers.get("x-fake-request-index"),
      "0",
    );
  }));

Deno.test("fake upstream keeps text/event-stream on a pre-stream error and wraps JSON-array errors", () =>
  withFake(async (fake) => {
    fake.failAll({ kind: "status", code: 503 }, { times: 2 });
    const sse = await call(fake, `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
      body: GEN_BODY,
    });
    assertEquals(sse.res.status, 503);
    assertEquals(sse.res.headers.get("content-type"), "text/event-stream");
    assertEquals((sse.json() as unknown as Envelope).error.status, "UNAVAILABLE");
    const array = await call(fake, `/v1beta/models/${MODEL}:streamGenerateContent`, {
      body: GEN_BODY,
    });
    assertEquals(array.res.status, 503);
    assertEquals((array.json() as unknown as Envelope[])[0]?.error.code, 503);
  }));

Deno.test("fake upstream cuts a stream after N chunks with or without a bare error object", () =>
  withFake(async (fake) => {
    const path = `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`;
    fake.failFor(KEY_1, { kind: "cut_stream", afterChunks: 2, error: 429 }, { times: 1 });
    const withError = await call(fake, path, { body: GEN_BODY });
    assertEquals(withError.res.status, 200);
    const parts = withError.text.split("\r\n\r\n");
    assertEquals(parts.length, 3);
    const tail = JSON.parse(parts[2]!) as Envelope;
    assertEquals(tail.error.code, 429);
    assert(parts[2]!.startsWith('{\n  "error": {'), "bare pretty JSON, no data: prefix");

    fake.failFor(KEY_1, { kind: "cut_stream", afterChunks: 1 }, { times: 1 });
    const abrupt = await call(fake, path, { body: GEN_BODY });
    assertEquals(abrupt.text.split("\r\n\r\n").filter(Boolean).length, 1);
    assert(!abrupt.text.includes("finishReason"));

    // Non-streaming calls are not consumed by a cut.
    fake.failFor(KEY_1, { kind: "cut_stream", afterChunks: 0, error: 503 }, { times: 1 });
    assertEquals(
      (await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body: GEN_BODY })).res.status,
      200,
    );
    const arrayCut = await call(fake, `/v1beta/models/${MODEL}:streamGenerateContent`, {
      body: GEN_BODY,
    });
    assertEquals(JSON.parse(arrayCut.text)[0].error.code, 503);
  }));

Deno.test("fake upstream delays headers for slow_first_byte and delayMs", () =>
  withFake(async (fake) => {
    fake.failFor(KEY_1, { kind: "slow_first_byte", ms: 150 }, { times: 1 });
    let started = performance.now();
    assertEquals((await call(fake, "/v1beta/models")).res.status, 200);
    assert(performance.now() - started >= 190, "slow_first_byte adds to delayMs");
    started = performance.now();
    await call(fake, "/v1beta/models");
    const plain = performance.now() - started;
    assert(plain >= 45 && plain < 190, `delayMs alone took ${plain}`);
  }, { delayMs: 50 }));

Deno.test("fake upstream wraps OpenAI-path errors in a JSON array", () =>
  withFake(async (fake) => {
    const bad = await call(fake, "/v1beta/openai/chat/completions", {
      key: null,
      headers: { authorization: `Bearer ${KEY_1}` },
      body: "{not json",
    });
    assertEquals(bad.res.status, 400);
    assert(bad.text.startsWith('[{\n  "error": {'));
    assertEquals((bad.json() as unknown as Envelope[])[0]?.error.status, "INVALID_ARGUMENT");
    const unknown = await call(fake, "/v1beta/openai/chat/completions", {
      key: null,
      headers: { authorization: `Bearer ${KEY_1}` },
      body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    });
    assertEquals(unknown.res.status, 404);
    assertEquals((unknown.json() as unknown as Envelope[])[0]?.error.status, "NOT_FOUND");
    const images = await call(fake, "/v1beta/openai/images/generations", {
      key: null,
      headers: { authorization: `Bearer ${KEY_1}` },
      body: JSON.stringify({ model: "imagen-4.0-generate-001", prompt: "a cat", n: 2 }),
    });
    assertEquals((images.json().data as unknown[]).length, 2);
  }));

Deno.test("fake upstream refuses files, caches and batches of another key", () =>
  withFake(async (fake) => {
    const start = await call(fake, "/upload/v1beta/files", {
      headers: {
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": "4",
        "x-goog-upload-header-content-type": "image/png",
      },
      body: JSON.stringify({ file: { displayName: "pic" } }),
    });
    const uploadUrl = start.res.headers.get("x-goog-upload-url")!;
    assert(uploadUrl.startsWith(`${fake.url}/upload/v1beta/files?upload_id=`));
    assert(uploadUrl.endsWith("&upload_protocol=resumable"));
    assertEquals(start.res.headers.get("x-goog-upload-status"), "active");
    const chunkPath = uploadUrl.slice(fake.url.length);
    const wrongOffset = await call(fake, chunkPath, {
      key: null,
      headers: { "x-goog-upload-command": "upload", "x-goog-upload-offset": "2" },
      body: "ab",
    });
    assertEquals(wrongOffset.res.status, 400);
    const part = await call(fake, chunkPath, {
      key: null,
      headers: { "x-goog-upload-command": "upload", "x-goog-upload-offset": "0" },
      body: "ab",
    });
    assertEquals([part.res.status, part.text], [200, ""]);
    assertEquals(part.res.headers.get("x-goog-upload-status"), "active");
    const final = await call(fake, chunkPath, {
      key: null,
      headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "2" },
      body: "cd",
    });
    assertEquals(final.res.headers.get("x-goog-upload-status"), "final");
    const file = final.json().file as Record<string, string>;
    assertEquals([file.sizeBytes, file.mimeType, file.displayName], ["4", "image/png", "pic"]);
    const id = file.name!.slice("files/".length);

    assertEquals((await call(fake, `/v1beta/files/${id}`)).res.status, 200);
    assertEquals((await call(fake, `/v1beta/files/${id}`, { key: KEY_2 })).res.status, 403);
    assertEquals((await call(fake, "/v1beta/files/nosuchfile")).res.status, 404);
    assertEquals((await call(fake, "/v1beta/files", { key: KEY_2 })).json(), {});
    assertEquals(((await call(fake, "/v1beta/files")).json().files as unknown[]).length, 1);

    const useFile = JSON.stringify({
      contents: [{
        parts: [{ fileData: { fileUri: file.uri, mimeType: "image/png" } }, { text: "describe" }],
      }],
    });
    const gen = `/v1beta/models/${MODEL}:generateContent`;
    assertEquals((await call(fake, gen, { body: useFile })).res.status, 200);
    const stolen = await call(fake, gen, { body: useFile, key: KEY_2 });
    assertEquals(stolen.res.status, 403);
    assertEquals(
      (stolen.json() as unknown as Envelope).error.message,
      "The caller does not have permission",
    );

    const batch = await call(fake, `/v1beta/models/${MODEL}:batchGenerateContent`, {
      body: JSON.stringify({
        batch: {
          displayName: "b",
          inputConfig: { requests: { requests: [{ request: JSON.parse(GEN_BODY) }] } },
        },
      }),
    });
    const batchName = batch.json().name as string;
    assert(batchName.startsWith("batches/"));
    const done = await call(fake, `/v1beta/${batchName}`);
    assertEquals(done.json().done, true);
    assertEquals((await call(fake, `/v1beta/${batchName}`, { key: KEY_2 })).res.status, 403);
    assertEquals(
      (await call(fake, `/v1beta/${batchName}:cancel`, { method: "POST", key: KEY_2 }))
        .res.status,
      403,
    );
    assertEquals((await call(fake, `/v1beta/${batchName}`, { method: "DELETE" })).res.status, 200);
    assertEquals((await call(fake, `/v1beta/${batchName}`)).res.status, 404);

    const cache = await call(fake, "/v1beta/cachedContents", {
      body: JSON.stringify({ model: `models/${MODEL}`, contents: JSON.parse(GEN_BODY).contents }),
    });
    const cacheName = cache.json().name as string;
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const other = await call(fake, `/v1beta/${cacheName}`, {
        method,
        key: KEY_2,
        ...(method === "PATCH" ? { body: '{"ttl":"60s"}' } : {}),
      });
      assertEquals(other.res.status, 403, method);
    }
    assertEquals(
      (await call(fake, `/v1beta/${cacheName}`, { method: "PATCH", body: '{"ttl":"60s"}' }))
        .res.status,
      200,
    );
  }));

Deno.test("fake upstream takes multipart uploads and counts request bytes beyond 1 MiB", () =>
  withFake(async (fake) => {
    const boundary = "fake-boundary-123";
    const media = new Uint8Array(1536 * 1024).fill(7);
    const body = new Blob([
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n`,
      JSON.stringify({ file: { displayName: "big" } }),
      `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      media,
      `\r\n--${boundary}--\r\n`,
    ]);
    const res = await call(fake, "/upload/v1beta/files", {
      headers: {
        "x-goog-upload-protocol": "multipart",
        "content-type": `multipart/related; boundary=${boundary}`,
      },
      body,
    });
    assertEquals(res.res.status, 200);
    const file = res.json().file as Record<string, string>;
    assertEquals([file.displayName, file.sizeBytes], ["big", String(media.byteLength)]);
    assertEquals(file.mimeType, "application/octet-stream");
    const record = fake.requests[0]!;
    assertEquals(record.bodyBytes, body.size);
    assertEquals(record.body, null);
  }));

Deno.test("fake upstream lists models with pagination and 404s unknown ones", () =>
  withFake(async (fake) => {
    const first = (await call(fake, "/v1/models?pageSize=3")).json();
    assertEquals((first.models as unknown[]).length, 3);
    const next = first.nextPageToken as string;
    assert(next);
    const second = (await call(fake, `/v1beta/models?pageSize=100&pageToken=${next}`)).json();
    const names = [
      ...(first.models as { name: string }[]),
      ...(second.models as { name: string }[]),
    ]
      .map((m) => m.name);
    for (
      const id of [
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash-lite",
        "text-embedding-004",
      ]
    ) {
      assert(names.includes(`models/${id}`), id);
    }
    assertEquals(second.nextPageToken, undefined);
    const one = (await call(fake, `/v1beta/models/${MODEL}`)).json();
    assertEquals(one.name, `models/${MODEL}`);
    const missing = await call(fake, "/v1beta/models/gemini-0.1-nope:generateContent", {
      body: GEN_BODY,
    });
    assertEquals(missing.res.status, 404);
    assert((missing.json() as unknown as Envelope).error.message.startsWith(
      "models/gemini-0.1-nope is not found for API version v1beta, or is not supported for generateContent",
    ));
    const embedOnChat = await call(fake, `/v1beta/models/${MODEL}:embedContent`, { body: "{}" });
    assertEquals(embedOnChat.res.status, 404);
    assertEquals((await call(fake, "/v2/files")).res.status, 404);
    assertEquals((await call(fake, "/nowhere")).res.status, 404);
    assertEquals(fake.requests.at(-1)!.path, "/nowhere");
  }));

Deno.test("fake upstream serves interactions, predict and long-running operations", () =>
  withFake(async (fake) => {
    const plain = await call(fake, "/v1beta/interactions", {
      body: JSON.stringify({ model: MODEL, input: "hi there" }),
    });
    assertEquals((plain.json().outputs as { text: string }[])[0]?.text, "Echo: hi there");
    const streamed = await call(fake, "/v1beta/interactions", {
      headers: { accept: "text/event-stream" },
      body: JSON.stringify({ model: MODEL, input: "hi" }),
    });
    assertEquals(streamed.res.headers.get("content-type"), "text/event-stream");
    assert(streamed.text.includes('"interaction.complete"'));
    const predict = await call(fake, "/v1beta/models/imagen-4.0-generate-001:predict", {
      body: JSON.stringify({ instances: [{ prompt: "cat" }] }),
    });
    assertEquals((predict.json().predictions as unknown[]).length, 1);
    const op = await call(fake, "/v1beta/models/veo-3.0-generate-001:predictLongRunning", {
      body: JSON.stringify({ instances: [{ prompt: "cat" }] }),
    });
    const name = op.json().name as string;
    const polled = await call(fake, `/v1beta/${name}`);
    assertEquals(polled.json().done, true);
  }));

Deno.test("fake upstream rejects invalid JSON and missing contents like Google", () =>
  withFake(async (fake) => {
    const broken = await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body: "{oops" });
    assertEquals(broken.res.status, 400);
    assert(detail(broken.json() as unknown as Envelope, "BadRequest"));
    const empty = await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body: "{}" });
    assertEquals(empty.res.status, 400);
    assert(
      (empty.json() as unknown as Envelope).error.message.includes("contents is not specified"),
    );
    assertEquals(countFakeTokens("  a  b\nc "), 3);
  }));
