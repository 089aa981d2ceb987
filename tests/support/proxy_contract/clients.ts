/**
 * The proxy contract: the official clients (@google/genai generate, stream, count, embed, files,
 * Live; the openai SDK) work through the proxy, with a real key swapped in for the token.
 * @module
 */
import { Modality } from "@google/genai";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "../assert.ts";
import { MODEL, type Suite, TEST_KEYS, TEST_TOKEN } from "./_suite.ts";

/**
 * Registers these cases of the contract for one target.
 * @param suite The target and the helpers every case uses.
 */
export function runClientsContract(suite: Suite): void {
  const { name, withProxy, genai, openai, assertUpstreamSawOnlyRealKeys, live } = suite;

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
}
