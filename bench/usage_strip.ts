/**
 * Cost of hiding the usage of an OpenAI stream whose client did not ask for it: a 20-chunk
 * `include_usage` stream (usage: null on every chunk, then the usage chunk) through the usage tap
 * alone, and through the usage filter then the tap, as the proxy relays it.
 * Run: `deno run -A bench/usage_strip.ts`.
 * @module
 */
import { usageTap } from "../core/usage/usage.ts";
import { stripUsage } from "../core/usage/usage_strip.ts";

const encoder = new TextEncoder();
const CHUNKS = 20;

function stream(): Uint8Array[] {
  const chunk = (i: number) =>
    `data: ${
      JSON.stringify({
        choices: [{
          delta: { content: ` word${i} and some more text`, role: "assistant" },
          index: 0,
        }],
        created: 1_700_000_000,
        id: "bench0000000000000000000",
        model: "gemini-2.5-flash",
        object: "chat.completion.chunk",
        usage: null,
      })
    }\n\n`;
  const usage = { prompt_tokens: 12, completion_tokens: 100, total_tokens: 112 };
  return [
    ...Array.from({ length: CHUNKS }, (_, i) => encoder.encode(chunk(i))),
    encoder.encode(`data: ${JSON.stringify({ choices: [], object: "x", usage })}\n\n`),
    encoder.encode("data: [DONE]\n\n"),
  ];
}

async function relay(pieces: Uint8Array[], strip: boolean): Promise<void> {
  let body = ReadableStream.from(pieces);
  if (strip) body = body.pipeThrough(stripUsage(() => {}));
  const reader = body.pipeThrough(usageTap("openai", () => {})).getReader();
  while (!(await reader.read()).done) { /* drain */ }
}

async function measure(strip: boolean, runs: number): Promise<number> {
  const pieces = stream();
  for (let i = 0; i < 200; i++) await relay(pieces, strip);
  const start = performance.now();
  for (let i = 0; i < runs; i++) await relay(pieces, strip);
  return ((performance.now() - start) * 1000) / runs;
}

if (import.meta.main) {
  const runs = 3000;
  const tap = await measure(false, runs);
  const both = await measure(true, runs);
  console.log(`${CHUNKS}-chunk OpenAI stream, ${runs} runs`);
  console.log(`usage tap alone:          ${tap.toFixed(1)} µs per stream`);
  console.log(`usage filter + usage tap: ${both.toFixed(1)} µs per stream`);
  console.log(`added per chunk:          ${((both - tap) / (CHUNKS + 2)).toFixed(2)} µs`);
}
