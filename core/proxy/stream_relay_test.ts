import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { createUsageReader, createUsageStripper, type TapResult } from "../usage/mod.ts";
import { relayStream } from "./stream_relay.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An upstream body the test feeds by hand, and what was cancelled on it. */
function handFed() {
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const cancelled: unknown[] = [];
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      feed = controller;
    },
    pull() {
      pulls++;
    },
    cancel(reason) {
      cancelled.push(reason);
    },
  }, { highWaterMark: 0 });
  return { body, feed: () => feed, cancelled, pulls: () => pulls };
}

function relayOf(body: ReadableStream<Uint8Array>, options: { strip?: boolean } = {}) {
  const results: TapResult[] = [];
  const hidden: unknown[] = [];
  let upstreamErrors = 0;
  const reader = createUsageReader(options.strip ? "openai" : "native", (r) => results.push(r));
  const stripper = options.strip ? createUsageStripper((u) => hidden.push(u)) : undefined;
  const client = relayStream(body, { reader, stripper, onUpstreamError: () => upstreamErrors++ })
    .getReader();
  return { client, results, hidden, upstreamErrors: () => upstreamErrors };
}

Deno.test("relayStream() hands each chunk to the client before upstream sends the next", async () => {
  const upstream = handFed();
  const { client, results } = relayOf(upstream.body);
  const first = encoder.encode('data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}\n\n');
  upstream.feed().enqueue(first);
  const got = await client.read();
  // The very bytes upstream sent: no copy, no re-encoding, nothing held back for the next chunk.
  assert(got.value === first, "the very bytes upstream sent");
  const second = encoder.encode(
    'data: {"usageMetadata":{"promptTokenCount":3,"totalTokenCount":5},"finishReason":"STOP"}\n\n',
  );
  upstream.feed().enqueue(second);
  assert((await client.read()).value === second, "the very bytes upstream sent");
  assertEquals(results, []);
  upstream.feed().close();
  assert((await client.read()).done);
  assertEquals(results.length, 1);
  assertEquals(results[0]!.usage?.total, 5);
  assertEquals(results[0]!.bytes, first.byteLength + second.byteLength);
  assertEquals(results[0]!.aborted, false);
});

Deno.test("relayStream() reads usage from a chunk split across reads", async () => {
  const upstream = handFed();
  const { client, results } = relayOf(upstream.body);
  const text = 'data: {"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":6,' +
    '"totalTokenCount":10}}\n\n';
  const cut = text.indexOf("usageMeta") + 4;
  const received: string[] = [];
  for (const piece of [text.slice(0, cut), text.slice(cut)]) {
    upstream.feed().enqueue(encoder.encode(piece));
    received.push(decoder.decode((await client.read()).value));
  }
  upstream.feed().close();
  assert((await client.read()).done);
  assertEquals(received.join(""), text);
  assertEquals(results[0]!.usage?.prompt, 4);
  assertEquals(results[0]!.usage?.candidates, 6);
  assertEquals(results[0]!.usage?.total, 10);
});

Deno.test("relayStream() reads only when the client asks: nothing is buffered ahead", async () => {
  const upstream = handFed();
  const { client } = relayOf(upstream.body);
  // Nobody has read yet: the relay has not pulled from upstream.
  await Promise.resolve();
  assertEquals(upstream.pulls(), 0);
  const read = client.read();
  upstream.feed().enqueue(encoder.encode("data: {}\n\n"));
  await read;
  assertEquals(upstream.pulls(), 1);
  await client.cancel();
});

Deno.test("relayStream() keeps reading while the stripper holds an unfinished event", async () => {
  const upstream = handFed();
  const { client, results, hidden } = relayOf(upstream.body, { strip: true });
  const content = 'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n';
  const usageOnly = 'data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,' +
    '"total_tokens":5}}\n\n';
  const done = "data: [DONE]\n\n";
  const read = client.read();
  // Half an event: held by the stripper, so the relay must read again rather than stall.
  upstream.feed().enqueue(encoder.encode(content.slice(0, 20)));
  upstream.feed().enqueue(encoder.encode(content.slice(20)));
  assertEquals(
    decoder.decode((await read).value),
    'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n',
  );
  const next = client.read();
  // The usage-only event is dropped whole: the relay reads on to the next one.
  upstream.feed().enqueue(encoder.encode(usageOnly));
  upstream.feed().enqueue(encoder.encode(done));
  assertEquals(decoder.decode((await next).value), done);
  upstream.feed().close();
  assert((await client.read()).done);
  assertEquals(hidden, [{ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }]);
  // The bytes counted are the ones the client got.
  assertEquals(results[0]!.bytes, 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'.length + 14);
});

Deno.test("relayStream() passes an unfinished last event on when upstream ends", async () => {
  const upstream = handFed();
  const { client, results } = relayOf(upstream.body, { strip: true });
  const read = client.read();
  upstream.feed().enqueue(encoder.encode('{"error":{"code":500}}'));
  upstream.feed().close();
  assertEquals(decoder.decode((await read).value), '{"error":{"code":500}}');
  assert((await client.read()).done);
  assertEquals(results[0]!.midStreamError, true);
});

Deno.test("relayStream() tells an upstream failure apart from the client leaving", async () => {
  const broken = handFed();
  const upstreamSide = relayOf(broken.body);
  const read = upstreamSide.client.read();
  broken.feed().error(new Error("connection reset"));
  await assertRejects(() => read, "connection reset");
  assertEquals(upstreamSide.upstreamErrors(), 1);
  assertEquals(upstreamSide.results.map((r) => r.aborted), [true]);

  const left = handFed();
  const clientSide = relayOf(left.body);
  left.feed().enqueue(encoder.encode("data: {}\n\n"));
  await clientSide.client.read();
  await clientSide.client.cancel("gone");
  assertEquals(left.cancelled, ["gone"]);
  assertEquals(clientSide.upstreamErrors(), 0);
  assertEquals(clientSide.results.map((r) => r.aborted), [true]);
});
