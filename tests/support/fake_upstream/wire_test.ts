/** How the fake writes: gzip when asked, and the content type of errors before a stream. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, type Envelope, GEN_BODY, MODEL, withFake } from "./_testing.ts";

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
