/**
 * The fake's generateContent and its streams: echoes, usage, SSE framing, JSON arrays, Google's
 * 400s.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { countFakeTokens } from "./mod.ts";
import {
  call,
  detail,
  type Envelope,
  GEN_BODY,
  genai,
  KEY_1,
  MODEL,
  withFake,
} from "./_testing.ts";

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
