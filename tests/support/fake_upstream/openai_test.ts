/** The fake's OpenAI-compatible endpoints, through the openai SDK. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fakeEmbedding } from "./mod.ts";
import { call, type Envelope, KEY_1, MODEL, openai, withFake } from "./_testing.ts";

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
