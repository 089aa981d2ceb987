import { assertEquals } from "../../tests/support/assert.ts";
import { DEFAULT_OUTPUT_TOKENS, estimateTokens, MEDIA_PART_TOKENS } from "./estimate.ts";

function body(json: unknown) {
  const text = JSON.stringify(json);
  return { json: undefined, text, bytes: () => new TextEncoder().encode(text).byteLength };
}

Deno.test("estimateTokens() counts prompt text at four bytes a token plus maxOutputTokens", () => {
  const request = {
    systemInstruction: { parts: [{ text: "abcd" }] },
    contents: [{ role: "user", parts: [{ text: "abc abc" }] }],
    generationConfig: { maxOutputTokens: 21, temperature: 0.5 },
  };
  // "abcd" is 1, "abc abc" (7 bytes) 2: the role, keys and JSON around them count nothing.
  assertEquals(estimateTokens(body(request)), 1 + 2 + 21);
  // Three bytes a character in UTF-8: 9 bytes, 3 tokens.
  assertEquals(estimateTokens(body({ contents: [{ parts: [{ text: "日本語" }] }] })), 3 + 1024);
});

Deno.test("estimateTokens() reads OpenAI bodies: messages, max_completion_tokens, max_tokens", () => {
  const messages = [{ role: "user", content: "12345678" }, {
    role: "user",
    content: [{ type: "text", text: "abcd" }, {
      type: "image_url",
      image_url: { url: "data:..." },
    }],
  }];
  assertEquals(
    estimateTokens({ json: { messages, max_tokens: 10 }, text: null, bytes: () => 0 }),
    2 + 1 + MEDIA_PART_TOKENS + 10,
  );
  assertEquals(
    estimateTokens({
      json: { messages, max_completion_tokens: 5, max_tokens: 10 },
      text: null,
      bytes: () => 0,
    }),
    2 + 1 + MEDIA_PART_TOKENS + 5,
  );
});

Deno.test("estimateTokens() counts a media part as an image, not its base64 size", () => {
  const data = "A".repeat(1_000_000);
  const request = {
    contents: [{
      parts: [{ text: "what is this" }, { inlineData: { mimeType: "image/png", data } }],
    }],
    generationConfig: { maxOutputTokens: 100 },
  };
  assertEquals(estimateTokens(body(request)), 3 + MEDIA_PART_TOKENS + 100);
});

Deno.test("estimateTokens() falls back to the body's size and the default output for anything else", () => {
  assertEquals(
    estimateTokens({ json: undefined, text: null, bytes: () => 4000 }),
    1000 + DEFAULT_OUTPUT_TOKENS,
  );
  assertEquals(
    estimateTokens({ json: undefined, text: "not json", bytes: () => 8 }),
    2 + DEFAULT_OUTPUT_TOKENS,
  );
  assertEquals(
    estimateTokens({ json: undefined, text: null, bytes: () => 0 }),
    DEFAULT_OUTPUT_TOKENS,
  );
});

Deno.test("estimateTokens() ignores hostile output maximums", () => {
  const at = (maxOutputTokens: unknown) =>
    estimateTokens(body({ contents: [], generationConfig: { maxOutputTokens } }));
  assertEquals(at(-5), DEFAULT_OUTPUT_TOKENS);
  assertEquals(at("99999999"), DEFAULT_OUTPUT_TOKENS);
  assertEquals(at(null), DEFAULT_OUTPUT_TOKENS);
  assertEquals(at(1e300), 1_000_000);
  assertEquals(at(0.5), 1);
  // Deep nesting is walked without recursion.
  let deep: unknown = { text: "abcd" };
  for (let i = 0; i < 50_000; i++) deep = [deep];
  assertEquals(
    estimateTokens({ json: deep, text: null, bytes: () => 0 }),
    1 + DEFAULT_OUTPUT_TOKENS,
  );
});
