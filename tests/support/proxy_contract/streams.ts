/**
 * The proxy contract: streams flow chunk by chunk, and a client that leaves aborts upstream.
 * @module
 */
import { assert, assertEquals, assertNotIncludes } from "../assert.ts";
import { leaveHeldStream } from "../leave_stream.ts";
import { MODEL, recordOf, type Suite, TEST_TOKEN } from "./_suite.ts";

/**
 * Registers these cases of the contract for one target.
 * @param suite The target and the helpers every case uses.
 */
export function runStreamsContract(suite: Suite): void {
  const { name, withProxy } = suite;

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
      const record = await leaveHeldStream(ctx.fake, {
        hold,
        lastChunk: 19,
        async leave() {
          controller.abort();
          await reader.cancel().catch(() => {});
        },
      });
      assert(record.cancelled, "upstream saw the request cancelled");
    }, { fake: { streamChunks: 20 } }));
}
