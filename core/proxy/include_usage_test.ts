import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { HttpError } from "../errors.ts";
import { readHeaders } from "./headers.ts";
import { askForUsage, includeUsage } from "./include_usage.ts";
import { prepareBody } from "./request_body.ts";
import { readQuery } from "./request_url.ts";
import { classifyRoute } from "./route.ts";

function rewrite(text: string) {
  return includeUsage(text, JSON.parse(text));
}

Deno.test("includeUsage() adds stream_options and keeps every other byte of the body", () => {
  const text =
    '{"model":"m","stream":true,"seed":12345678901234567890,"extra_body":{"google":{"x":1}},' +
    '"messages":[{"role":"user","content":"say \\"usage\\""}], "n": 1.50}';
  assertEquals(rewrite(text), {
    text: `{"stream_options":{"include_usage":true},${text.slice(1)}`,
    added: true,
  });
});

Deno.test("includeUsage() sets include_usage in every shape stream_options can take", () => {
  assertEquals(
    rewrite('{"stream":true,"stream_options":null}')?.text,
    '{"stream":true,"stream_options":{"include_usage":true}}',
  );
  assertEquals(
    rewrite('{"stream":true,"stream_options":{ }}')?.text,
    '{"stream":true,"stream_options":{"include_usage":true }}',
  );
  assertEquals(
    rewrite('{"stream":true,"stream_options":{"continuous_usage_stats":true}}')?.text,
    '{"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}',
  );
  assertEquals(
    rewrite('{"stream":true,"stream_options":{"include_usage": false,"x":1}}')?.text,
    '{"stream":true,"stream_options":{"include_usage": true,"x":1}}',
  );
});

Deno.test("includeUsage() leaves a client that asked for usage and non-streamed requests alone", () => {
  const asked = '{"stream":true,"stream_options":{"include_usage":true}}';
  assertEquals(rewrite(asked), { text: asked, added: false });
  assertEquals(rewrite('{"stream":false,"messages":[]}'), null);
  assertEquals(rewrite('{"messages":[]}'), null);
  assertEquals(rewrite('{"stream":"true"}'), null);
});

Deno.test("includeUsage() refuses bodies whose stream settings upstream could read otherwise", () => {
  for (
    const text of [
      '{"stream":false,"stream":true}',
      '{"stream":true,"stream_options":{"include_usage":false},"stream_options":{"include_usage":true}}',
      '{"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}',
      '{"stream":true,"stream_options":"include_usage"}',
      '{"stream":true,"stream_options":[true]}',
    ]
  ) {
    const error = assertThrows(() => rewrite(text));
    assertEquals(error instanceof HttpError && error.code, 400, text);
  }
});

Deno.test("askForUsage() rewrites only buffered streamed chat completions", async () => {
  const chat = classifyRoute("/v1beta/openai/chat/completions", readQuery(""))!;
  const embeddings = classifyRoute("/v1beta/openai/embeddings", readQuery(""))!;
  const text = '{"model":"m","stream":true,"messages":[]}';
  const prepare = () => {
    const request = new Request("http://x/", {
      method: "POST",
      body: text,
      headers: { "content-type": "application/json", "content-length": String(text.length) },
    });
    return prepareBody(request, {
      maxBodyBytes: 1000,
      maxBufferedBytes: 1000,
      requireJson: true,
      headers: readHeaders(request.headers),
    });
  };
  const body = await prepare();
  assertEquals(askForUsage(chat, "POST", body), true);
  assertEquals(body.bytes(), text.length, "the size the client sent, not the rewritten one");
  assertEquals(
    new TextDecoder().decode(body.body as Uint8Array),
    '{"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[]}',
  );
  assertEquals(body.text, text, "the client's text stays for logs");
  const other = await prepare();
  assertEquals(askForUsage(embeddings, "POST", other), false);
  assertEquals(new TextDecoder().decode(other.body as Uint8Array), text);
  const dup = await prepareBody(
    new Request("http://x/", { method: "POST", body: '{"stream":true,"stream":true}' }),
    { maxBodyBytes: 1000, maxBufferedBytes: 1000, requireJson: true, headers: [] },
  );
  assertThrows(() => askForUsage(chat, "POST", dup), '"stream" appears twice');
});
