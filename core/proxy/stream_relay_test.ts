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

/** A byte stream that fills reads the way the runtime's fetch bodies do (64 KiB when unasked). */
function runtimeLike(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 64 * 1024,
    pull(controller) {
      const request = controller.byobRequest!;
      const piece = pieces.shift();
      if (!piece) {
        controller.close();
        return request.respond(0);
      }
      const view = request.view!;
      const n = Math.min(piece.byteLength, view.byteLength);
      new Uint8Array(view.buffer, view.byteOffset, n).set(piece.subarray(0, n));
      if (n < piece.byteLength) pieces.unshift(piece.subarray(n));
      request.respond(n);
    },
  });
}

Deno.test("relayStream() hands small chunks on at their own size, not in 64 KiB read buffers", async () => {
  const events = ["data: {}\n\n", 'data: {"usageMetadata":{"totalTokenCount":2}}\n\n'];
  const { client, results } = relayOf(runtimeLike(events.map((e) => encoder.encode(e))));
  const got: Uint8Array[] = [];
  for (let r = await client.read(); !r.done; r = await client.read()) got.push(r.value);
  assertEquals(got.map((c) => decoder.decode(c)), events);
  // Each chunk the client holds keeps only its own bytes alive.
  assertEquals(got.map((c) => c.buffer.byteLength), events.map((e) => e.length));
  assertEquals(results[0]!.usage?.total, 2);
});

Deno.test("relayStream() moves a large body intact, in reads that grow", async () => {
  const big = new Uint8Array(300 * 1024).map((_, i) => i % 251);
  const { client, results } = relayOf(runtimeLike([big]));
  const sizes: number[] = [];
  const out = new Uint8Array(big.byteLength);
  let at = 0;
  for (let r = await client.read(); !r.done; r = await client.read()) {
    out.set(r.value, at);
    at += r.value.byteLength;
    sizes.push(r.value.byteLength);
  }
  assertEquals(at, big.byteLength);
  assert(out.every((b, i) => b === big[i]), "the bytes relayed are upstream's");
  assertEquals(sizes.slice(0, 6), [2048, 4096, 8192, 16384, 32768, 65536]);
  assertEquals(results[0]!.bytes, big.byteLength);
});

Deno.test("relayStream() reads a fetch body into its own small buffer", async () => {
  const events = ["data: {}\n\n", "data: {}\n\n"];
  let send!: ReadableStreamDefaultController<Uint8Array>;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        start(c) {
          send = c;
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    ));
  let client: ReadableStreamDefaultReader<Uint8Array> | null = null;
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    client = relayOf(response.body!).client;
    for (const event of events) {
      const read = client.read();
      send.enqueue(encoder.encode(event));
      const chunk = (await read).value!;
      assertEquals(decoder.decode(chunk), event);
      assert(chunk.buffer.byteLength < 64 * 1024, `a ${chunk.buffer.byteLength}-byte buffer`);
    }
    send.close();
    assert((await client.read()).done);
  } finally {
    // A failed check must not leave the response open: shutdown waits for it.
    await client?.cancel().catch(() => {});
    await server.shutdown();
  }
});
