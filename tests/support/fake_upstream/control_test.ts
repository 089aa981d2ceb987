/**
 * Controlling the fake: holds, cancelled clients, failure rules by key, model and count, cut
 * streams and delays.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { call, type Envelope, GEN_BODY, KEY_1, KEY_2, MODEL, withFake } from "./_testing.ts";

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
    // The delay the fake applied is in its server-timing header, as Google reports its own; the
    // clock only bounds it from below (a busy machine makes a wait longer, never shorter).
    let started = performance.now();
    const slow = await call(fake, "/v1beta/models");
    const slowMs = performance.now() - started;
    assertEquals(slow.res.status, 200);
    assertEquals(slow.res.headers.get("server-timing"), "gfet4t7; dur=201", "150 + 50 ms");
    assert(slowMs >= 199, `slow_first_byte adds to delayMs, yet the answer took ${slowMs} ms`);
    started = performance.now();
    const plain = await call(fake, "/v1beta/models");
    const plainMs = performance.now() - started;
    assertEquals(plain.res.headers.get("server-timing"), "gfet4t7; dur=51", "delayMs alone");
    assert(plainMs >= 49, `delayMs alone, yet the answer took ${plainMs} ms`);
  }, { delayMs: 50 }));
