/**
 * The fake's stored resources: cachedContents, batches, files and interactions, each kept to its
 * key.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  assertRejectsStatus,
  call,
  type Envelope,
  GEN_BODY,
  genai,
  KEY_2,
  MODEL,
  withFake,
} from "./_testing.ts";

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
