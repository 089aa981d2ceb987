/** The fake's models: listing with pagination, token counts and embeddings. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fakeEmbedding } from "./mod.ts";
import { call, type Envelope, GEN_BODY, genai, MODEL, withFake } from "./_testing.ts";

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
