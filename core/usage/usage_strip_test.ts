import { assertEquals } from "../../tests/support/assert.ts";
import { stripUsage } from "./usage_strip.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  `data: ${
    JSON.stringify({
      choices: [{ delta: { content }, index: 0 }],
      id: "c1",
      object: "chat.completion.chunk",
      ...extra,
    })
  }\n\n`;

/** What OpenAI sends without include_usage. */
const plain = [chunk("Echo:"), chunk(" hi", {}), "data: [DONE]\n\n"];
/** The same stream with include_usage: `usage: null` everywhere, then a usage-only chunk. */
const withUsage = [
  chunk("Echo:", { usage: null }),
  chunk(" hi", { usage: null }),
  `data: ${JSON.stringify({ choices: [], id: "c1", object: "chat.completion.chunk", usage })}\n\n`,
  "data: [DONE]\n\n",
];

async function strip(pieces: Uint8Array[]): Promise<{ out: Uint8Array[]; seen: unknown[] }> {
  const seen: unknown[] = [];
  const out: Uint8Array[] = [];
  const body = ReadableStream.from(pieces).pipeThrough(stripUsage((u) => seen.push(u)));
  for await (const part of body) out.push(part);
  return { out, seen };
}

const text = (parts: Uint8Array[]) => parts.map((p) => decoder.decode(p)).join("");

Deno.test("stripUsage() turns an include_usage stream into the stream without it", async () => {
  const { out, seen } = await strip([encoder.encode(withUsage.join(""))]);
  assertEquals(text(out), plain.join(""));
  assertEquals(seen, [usage]);
});

Deno.test("stripUsage() removes usage from the last content chunk and keeps the chunk", async () => {
  const last = 'data: {"choices":[{"delta":{"content":" hi"},"finish_reason":"stop","index":0}],' +
    '"usage":{"completion_tokens":2,"prompt_tokens":1,"total_tokens":3},"object":"x"}\r\n\r\n';
  const { out, seen } = await strip([encoder.encode(last + "data: [DONE]\r\n\r\n")]);
  assertEquals(
    text(out),
    'data: {"choices":[{"delta":{"content":" hi"},"finish_reason":"stop","index":0}],' +
      '"object":"x"}\r\n\r\ndata: [DONE]\r\n\r\n',
  );
  assertEquals(seen, [{ completion_tokens: 2, prompt_tokens: 1, total_tokens: 3 }]);
});

Deno.test("stripUsage() passes each event on with the byte that completes it, fed byte by byte", async () => {
  const seen: unknown[] = [];
  const transform = stripUsage((u) => seen.push(u));
  const writer = transform.writable.getWriter();
  const reader = transform.readable.getReader();
  const PENDING = Symbol("pending");
  let read = reader.read();
  const observed: (string | null)[] = [];
  for (const event of withUsage) {
    const bytes = encoder.encode(event);
    for (let i = 0; i < bytes.length; i++) {
      await writer.write(bytes.subarray(i, i + 1));
      const result = await Promise.race([read, Promise.resolve(PENDING)]);
      if (result === PENDING) continue;
      assertEquals(i, bytes.length - 1, "nothing goes on before its event is complete");
      observed.push(decoder.decode((result as ReadableStreamReadResult<Uint8Array>).value));
      read = reader.read();
    }
    if (observed.length < withUsage.indexOf(event) + 1) observed.push(null);
  }
  await writer.close();
  assertEquals((await read).done, true);
  assertEquals(observed, [plain[0]!, plain[1]!, null, plain[2]!]);
  assertEquals(seen, [usage]);
});

Deno.test("stripUsage() leaves events without usage byte-identical, whatever the framing", async () => {
  const events = [
    ": comment\r\n\r\n",
    'event: message\nid: 7\ndata: {"choices":[{"delta":{"content":"x"}}],"model":"m"}\n\n',
    'data: {"choices":[{"delta":{"content":"\\"usage\\": 1"}}]}\r\r',
    "data: [DONE]\n\n",
  ];
  const whole = encoder.encode(events.join(""));
  for (const size of [1, 2, 5, 64, whole.length]) {
    const pieces = [];
    for (let i = 0; i < whole.length; i += size) pieces.push(whole.slice(i, i + size));
    const { out, seen } = await strip(pieces);
    assertEquals(text(out), events.join(""), `pieces of ${size}`);
    assertEquals(seen, []);
  }
});

Deno.test("stripUsage() drops a usage-only chunk without choices and mends multi-line data", async () => {
  const events = [
    'data: {"object":"chat.completion.chunk",\ndata: "choices":[{"delta":{"content":"a"}}],\n' +
    'data: "usage":null}\n\n',
    'data: {"usage":{"total_tokens":9}}\n\n',
  ];
  const { out, seen } = await strip([encoder.encode(events.join(""))]);
  assertEquals(
    text(out),
    'data: {"object":"chat.completion.chunk",\ndata: "choices":[{"delta":{"content":"a"}}]}\n\n',
  );
  assertEquals(seen, [{ total_tokens: 9 }]);
});

Deno.test("stripUsage() passes an oversized event through unread and an unfinished tail as is", async () => {
  const big = `data: {"choices":[{"delta":{"content":"${
    "x".repeat(2_000_000)
  }"}}],"usage":null}\n\n`;
  const tail = '{\n  "error": {\n    "code": 503\n  }\n}\n';
  const bytes = encoder.encode(big + withUsage[2] + tail);
  const pieces = [];
  for (let i = 0; i < bytes.length; i += 65536) pieces.push(bytes.slice(i, i + 65536));
  const { out, seen } = await strip(pieces);
  // Compared as a boolean: a failure must not print megabytes.
  assertEquals(text(out) === big + tail, true);
  assertEquals(seen, [usage]);
  assertEquals(out.length <= pieces.length, true, "never more writes than chunks received");
});

Deno.test("stripUsage() cuts `usage: null` out of the bytes as the JSON reading would, whole or byte by byte", async () => {
  // Each event with what comes out: the common one-line `usage: null` event is cut without
  // decoding; anything else (escaped keys, two usages, counts, a cut-short object) is read as JSON.
  const cases: [string, string | null][] = [
    ['data: {"a":1,"usage":null}\n\n', 'data: {"a":1}\n\n'],
    ['data: {"usage":null,"a":1}\n\n', 'data: {"a":1}\n\n'],
    ['data: {"usage":null}\n\n', "data: {}\n\n"],
    ['data:{ "a" : 1 , "usage" : null }\r\n\r\n', 'data:{ "a" : 1 }\r\n\r\n'],
    [
      'data: {"a":1 ,\t"usage":null\t, "b":[1,{"usage":null}],"c":"x"}\r\r',
      'data: {"a":1 ,\t"b":[1,{"usage":null}],"c":"x"}\r\r',
    ],
    [
      'data: {"choices":[{"delta":{"content":"\\"usage\\":null 团队 🚀"}}],"usage":null,"o":"c"}\n\n',
      'data: {"choices":[{"delta":{"content":"\\"usage\\":null 团队 🚀"}}],"o":"c"}\n\n',
    ],
    [
      'data: {"choices":[{"usage":null}],"o":"c"}\n\n',
      'data: {"choices":[{"usage":null}],"o":"c"}\n\n',
    ],
    ['data: {"a":"\\\\","usage":null}\n\n', 'data: {"a":"\\\\"}\n\n'],
    ['data: {"usage":null,"usage":null,"a":1}\n\n', 'data: {"a":1}\n\n'],
    ['data: {"us\\u0061ge":null,"a":1}\n\n', 'data: {"us\\u0061ge":null,"a":1}\n\n'],
    ['event: x\ndata: {"a":1,"usage":null}\n\n', 'event: x\ndata: {"a":1}\n\n'],
    ['data: {"a":1,"usage":null\n\n', 'data: {"a":1\n\n'],
    ['data: {"a":1,"usage":nul}\n\n', 'data: {"a":1,"usage":nul}\n\n'],
    ['data: {"a":[1,"]"],"usage":null,"b":{"c":"}"}}\n\n', 'data: {"a":[1,"]"],"b":{"c":"}"}}\n\n'],
    ['data: {"a":1,"usage":{"total_tokens":3}}\n\n', null],
  ];
  for (const [event, expected] of cases) {
    const bytes = encoder.encode(event);
    for (const pieces of [[bytes], [...bytes].map((b) => new Uint8Array([b]))]) {
      const { out, seen } = await strip(pieces);
      assertEquals(text(out), expected ?? "", `${event} in ${pieces.length} pieces`);
      assertEquals(seen, expected === null ? [{ total_tokens: 3 }] : [], event);
    }
  }
});

Deno.test("stripUsage() keeps every other byte of an event as it came, invalid UTF-8 included", async () => {
  const head = encoder.encode('data: {"choices":[{"delta":{"content":"');
  const tail = encoder.encode('"}}],"usage":null}\n\n');
  const event = new Uint8Array([...head, 0xff, 0xc3, ...tail]);
  const { out } = await strip([event]);
  const expected = new Uint8Array([...head, 0xff, 0xc3, ...encoder.encode('"}}]}\n\n')]);
  assertEquals([...out.flatMap((p) => [...p])], [...expected]);
});
