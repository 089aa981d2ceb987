/** The fake's uploads: the resumable protocol through @google/genai, and multipart uploads. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { assertRejectsStatus, call, genai, KEY_2, withFake } from "./_testing.ts";

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
