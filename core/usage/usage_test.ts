import { assert, assertEquals } from "../../tests/support/assert.ts";
import { finishReasonOf, type TapResult, usageOf, usageTap } from "./usage.ts";

const encoder = new TextEncoder();

async function tap(
  flavour: "native" | "openai",
  pieces: string[],
): Promise<{ out: string; result: TapResult }> {
  let result!: TapResult;
  const stream = ReadableStream.from(pieces.map((p) => encoder.encode(p)))
    .pipeThrough(usageTap(flavour, (r) => result = r));
  const out = await new Response(stream).text();
  return { out, result };
}

const sse = [
  'data: {"candidates": [{"content": {"parts": [{"text": "One"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 1,"totalTokenCount": 6},"modelVersion": "m"}\r\n\r\n',
  'data: {"candidates": [{"content": {"parts": [{"text": "Two"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 2,"thoughtsTokenCount": 7,"totalTokenCount": 14},"modelVersion": "m"}\r\n\r\n',
];

Deno.test("usageTap() relays bytes unchanged and reports the last cumulative usage", async () => {
  const { out, result } = await tap("native", sse);
  assertEquals(out, sse.join(""));
  assertEquals(result.usage, {
    prompt: 5,
    candidates: 2,
    thoughts: 7,
    cached: 0,
    toolUse: 0,
    total: 14,
  });
  assertEquals(result.finishReason, "STOP");
  assertEquals(result.bytes, encoder.encode(sse.join("")).byteLength);
  assertEquals([result.midStreamError, result.aborted], [false, false]);
});

Deno.test("usageTap() finds usage split across arbitrary chunk boundaries", async () => {
  const whole = sse.join("");
  for (const size of [1, 3, 7, 50]) {
    const pieces = [];
    for (let i = 0; i < whole.length; i += size) pieces.push(whole.slice(i, i + size));
    const { result } = await tap("native", pieces);
    assertEquals(result.usage?.total, 14, `chunk size ${size}`);
    assertEquals(result.finishReason, "STOP");
  }
});

Deno.test("usageTap() flags an error appended after a successful start", async () => {
  const cut = [
    sse[0]!,
    '{\n  "error": {\n    "code": 429,\n    "message": "x",\n    "status": "RESOURCE_EXHAUSTED"\n  }\n}\n',
  ];
  const { result } = await tap("native", cut);
  assert(result.midStreamError);
  assertEquals(result.finishReason, null);
  assertEquals(result.usage?.total, 6);
});

Deno.test("usageTap() reads OpenAI usage and finish_reason", async () => {
  const chunks = [
    'data: {"choices":[{"delta":{"content":"hi"},"index":0}],"object":"chat.completion.chunk"}\n\n',
    'data: {"choices":[{"delta":{},"finish_reason":"stop","index":0}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n',
    "data: [DONE]\n\n",
  ];
  const { result } = await tap("openai", chunks);
  assertEquals(result.usage, {
    prompt: 3,
    candidates: 4,
    thoughts: 0,
    cached: 0,
    toolUse: 0,
    total: 7,
  });
  assertEquals(result.finishReason, "stop");
});

Deno.test("usageTap() reports an aborted body when cancelled", async () => {
  let result: TapResult | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(encoder.encode(sse[0]!));
    },
  }).pipeThrough(usageTap("native", (r) => result = r));
  const reader = body.getReader();
  await reader.read();
  await reader.cancel();
  assertEquals(result?.aborted, true);
  assertEquals(result?.usage?.total, 6);
});

Deno.test("usageOf() reads a whole body", () => {
  assertEquals(
    usageOf('{"usageMetadata": {"promptTokenCount": 2, "totalTokenCount": 2}}', "native")?.total,
    2,
  );
  assertEquals(usageOf("{}", "native"), null);
});

/** OpenAI's stream with `include_usage`: `usage: null` on every chunk, then a usage-only chunk. */
const openAiWithNulls = [
  'data: {"id":"c1","choices":[{"delta":{"content":"Echo:","role":"assistant"},"index":0}],"object":"chat.completion.chunk","usage":null}\n\n',
  'data: {"id":"c1","choices":[{"delta":{"content":" hi"},"finish_reason":"stop","index":0}],"object":"chat.completion.chunk","usage": null}\n\n',
  'data: {"id":"c1","choices":[],"object":"chat.completion.chunk","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n',
  "data: [DONE]\n\n",
];

/** Gemini's form: usage on the last content chunk. */
const openAiLastChunk = [
  'data: {"choices":[{"delta":{"content":"Echo:","role":"assistant"},"index":0}],"object":"chat.completion.chunk"}\n\n',
  'data: {"choices":[{"delta":{"content":" hi","role":"assistant"},"finish_reason":"stop","index":0}],"object":"chat.completion.chunk","usage":{"completion_tokens":2,"prompt_tokens":1,"total_tokens":3}}\n\n',
  "data: [DONE]\n\n",
];

function bytewise(pieces: string[]): string[] {
  return Array.from(encoder.encode(pieces.join("")), (b) => String.fromCharCode(b));
}

Deno.test("usageTap() reads the usage chunk after chunks carrying usage: null", async () => {
  const { out, result } = await tap("openai", openAiWithNulls);
  assertEquals(out, openAiWithNulls.join(""));
  assertEquals(result.usage?.total, 3);
  assertEquals(result.finishReason, "stop");
});

Deno.test("usageTap() reads usage from the last content chunk", async () => {
  const { result } = await tap("openai", openAiLastChunk);
  assertEquals(result.usage, {
    prompt: 1,
    candidates: 2,
    thoughts: 0,
    cached: 0,
    toolUse: 0,
    total: 3,
  });
});

Deno.test("usageTap() finds OpenAI usage fed one byte at a time", async () => {
  for (const stream of [openAiWithNulls, openAiLastChunk]) {
    // ASCII bodies: one character per byte.
    const { out, result } = await tap("openai", bytewise(stream));
    assertEquals(out, stream.join(""));
    assertEquals([result.usage?.total, result.finishReason], [3, "stop"]);
  }
});

Deno.test("usageTap() reports no usage when a stream carries only usage: null", async () => {
  const { result } = await tap("openai", [openAiWithNulls[0]!, openAiWithNulls[1]!]);
  assertEquals(result.usage, null);
});

Deno.test("usageOf() skips a null usage and reads a later one", () => {
  assertEquals(usageOf('{"usage":null,"x":{"usage":{"total_tokens":4}}}', "openai")?.total, 4);
  assertEquals(usageOf('{"usage": null}', "openai"), null);
});

Deno.test("usageTap() leaves usage unknown when the last usage object does not parse, not an earlier count", async () => {
  const broken = sse[1]!.replace('"totalTokenCount": 14}', '"totalTokenCount": 14,}');
  const { out, result } = await tap("native", [sse[0]!, broken]);
  assertEquals(out, sse[0]! + broken);
  assertEquals(result.usage, null);
  assertEquals(result.finishReason, "STOP");
});

Deno.test("usageTap() finds finish reasons and errors split across chunk boundaries", async () => {
  const text = sse[1]! + 'data: {"error": {"code": 500, "message": "x"}}\r\n\r\n';
  for (const at of [text.indexOf("finishReason") + 4, text.indexOf('"error"') + 3]) {
    const { result } = await tap("native", [sse[0]!, text.slice(0, at), text.slice(at)]);
    assertEquals(result.finishReason, "STOP", `split at ${at}`);
    assertEquals(result.midStreamError, true, `split at ${at}`);
  }
});

Deno.test("finishReasonOf() gives the last finish reason of a whole answer, read from the end", () => {
  const body = JSON.stringify({
    candidates: [{ finishReason: "MAX_TOKENS" }, { finishReason: "STOP" }],
    usageMetadata: { totalTokenCount: 3 },
  });
  assertEquals(finishReasonOf(body, "native"), "STOP");
  assertEquals(finishReasonOf('{"finishReason":"SAFETY"}', "native"), "SAFETY");
  // A later key whose value is not a reason is passed over, not taken.
  assertEquals(finishReasonOf('"finishReason": "STOP", "finishReason": null', "native"), "STOP");
  assertEquals(finishReasonOf('"finishReason"', "native"), null);
  assertEquals(finishReasonOf("", "native"), null);
  assertEquals(finishReasonOf('{"choices":[{"finish_reason":"length"}]}', "openai"), "length");
  assertEquals(finishReasonOf('{"finishReason":"STOP"}', "openai"), null);
});

Deno.test("finishReasonOf() agrees with a scan of every match, on random and hostile answers", () => {
  const every = (text: string, flavour: "native" | "openai") => {
    const pattern = flavour === "native"
      ? /"finishReason"\s*:\s*"([A-Z_]+)"/g
      : /"finish_reason"\s*:\s*"([a-z_]+)"/g;
    let reason: string | null = null;
    for (const match of text.matchAll(pattern)) reason = match[1]!;
    return reason;
  };
  const pieces = [
    '"finishReason"',
    '"finish_reason"',
    ":",
    " ",
    '"STOP"',
    '"stop"',
    '"',
    "null",
    "STOP",
    "\\",
    "{",
    "}",
    ",",
    "\n",
    '"\u00e9"',
  ];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 5_000; i++) {
    const length = Math.floor(next() * 24);
    const text = Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)]).join("");
    for (const flavour of ["native", "openai"] as const) {
      assertEquals(finishReasonOf(text, flavour), every(text, flavour), text);
    }
  }
  const flood = '"finishReason":'.repeat(50_000);
  assertEquals(finishReasonOf(flood + '"STOP"', "native"), "STOP");
  assertEquals(finishReasonOf(flood, "native"), null);
});
