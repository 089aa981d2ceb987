import { assertEquals } from "../../tests/support/assert.ts";
import { buildRequest, readPiece, takeEvents } from "./playground_client.ts";

const base = {
  model: "gemini-2.5-flash",
  token: "gp-test",
  system: "Be brief",
  temperature: "0.2",
  maxOutputTokens: "64",
  stream: false,
  turns: [
    { role: "user" as const, text: "Hi" },
    { role: "model" as const, text: "Hello" },
    { role: "user" as const, text: "Again" },
  ],
};

Deno.test("buildRequest() sends Gemini's system instruction, parameters and every turn", () => {
  const { url, init } = buildRequest({ ...base, mode: "gemini" });
  assertEquals(url, "/v1beta/models/gemini-2.5-flash:generateContent");
  assertEquals(JSON.parse(String(init.body)), {
    systemInstruction: { parts: [{ text: "Be brief" }] },
    contents: [
      { role: "user", parts: [{ text: "Hi" }] },
      { role: "model", parts: [{ text: "Hello" }] },
      { role: "user", parts: [{ text: "Again" }] },
    ],
    generationConfig: { temperature: 0.2, maxOutputTokens: 64 },
  });
});

Deno.test("buildRequest() speaks OpenAI's chat/completions with a bearer token", () => {
  const { url, init } = buildRequest({ ...base, mode: "openai", stream: true, temperature: "" });
  assertEquals(url, "/v1beta/openai/chat/completions");
  assertEquals((init.headers as Record<string, string>).authorization, "Bearer gp-test");
  assertEquals(JSON.parse(String(init.body)), {
    model: "gemini-2.5-flash",
    messages: [
      { role: "system", content: "Be brief" },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Again" },
    ],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 64,
  });
});

Deno.test("takeEvents() and readPiece() read both APIs' streams across reads", () => {
  const first = takeEvents('data: {"choices":[{"delta":{"content":"He"}}]}\r\n\r\ndata: {"cho');
  assertEquals(first.events.length, 1);
  const second = takeEvents(
    first.rest + 'ices":[{"delta":{"content":"llo"}}]}\n\ndata: [DONE]\n\n',
  );
  const text = [...first.events, ...second.events].map((e) =>
    readPiece("openai", JSON.parse(e)).text
  ).join("");
  assertEquals(text, "Hello");
  assertEquals(
    readPiece("gemini", {
      candidates: [{ content: { parts: [{ text: "hm", thought: true }, { text: "Yes" }] } }],
      usageMetadata: { totalTokenCount: 7 },
    }),
    { text: "Yes", tokens: 7 },
  );
});
