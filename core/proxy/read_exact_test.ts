import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { readExact } from "./read_exact.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A byte stream that fills reads as the runtime's bodies do (64 KiB when the reader asks none). */
function byteStream(pieces: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 64 * 1024,
    pull(controller) {
      const request = controller.byobRequest!;
      const piece = pieces.shift();
      if (!piece) {
        if (fail) return controller.error(fail);
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

Deno.test("readExact() reads a declared length into one buffer of that length", async () => {
  const text = '{"candidates":[{"content":{"parts":[{"text":"hello"}]}}]}';
  const pieces = [text.slice(0, 10), text.slice(10, 30), text.slice(30)].map((p) =>
    encoder.encode(p)
  );
  const bytes = await readExact(byteStream(pieces), text.length);
  assertEquals(decoder.decode(bytes), text);
  // Not a 64 KiB read buffer, not a join of several: the body's own size, allocated once.
  assertEquals(bytes.buffer.byteLength, text.length);
});

Deno.test("readExact() keeps what a body carries when it differs from the declared length", async () => {
  const short = await readExact(byteStream([encoder.encode("abc")]), 10);
  assertEquals(decoder.decode(short), "abc");
  const long = await readExact(byteStream([encoder.encode("abcdef"), encoder.encode("ghi")]), 4);
  assertEquals(decoder.decode(long), "abcdefghi");
  const empty = await readExact(byteStream([]), 0);
  assertEquals(empty.byteLength, 0);
});

Deno.test("readExact() collects a stream that is not a byte stream", async () => {
  const body = ReadableStream.from([encoder.encode("ab"), encoder.encode("cd")]);
  assertEquals(decoder.decode(await readExact(body, 4)), "abcd");
});

Deno.test("readExact() passes on the error of a body that breaks off", async () => {
  const error = await assertRejects(
    () => readExact(byteStream([encoder.encode("ab")], new Error("reset")), 10),
    "reset",
  );
  assert(error instanceof Error);
});

Deno.test("readExact() reads a fetch body over a real socket", async () => {
  const body = "x".repeat(5000);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(body, { headers: { "content-length": String(body.length) } }),
  );
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    const bytes = await readExact(response.body!, body.length);
    assertEquals(decoder.decode(bytes), body);
    assertEquals(bytes.buffer.byteLength, body.length);
  } finally {
    await server.shutdown();
  }
});
