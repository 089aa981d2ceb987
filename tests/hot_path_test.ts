/**
 * The hot path reads a client request's headers once. Every `Headers.get` on a served request
 * re-checks and lower-cases the name (the commonest names lower-case every entry too), every
 * `forEach` lower-cases and sorts the whole list again, and the first look is a call into the
 * runtime: the proxy reads the list once and every stage looks at that.
 *
 * The proxy runs in this process behind a real socket; the served requests' `Headers` are told
 * apart by the server's handler, and the prototype's methods count the calls made on them.
 * @module
 */
import { createApp } from "../core/app.ts";
import { parseConfig } from "../core/config/config.ts";
import { createMemoryStore } from "../core/store/memory_store.ts";
import { assertEquals } from "./support/assert.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { memoryAppEnv, TOKEN } from "./support/harness.ts";

type Counts = Record<"get" | "has" | "forEach" | "iterate", number>;

/** Counts the calls made on served requests' headers while `run` runs. */
async function countHeaderReads(run: (url: string) => Promise<void>): Promise<Counts> {
  const fake = await startFakeUpstream();
  const config = parseConfig(memoryAppEnv(fake.url));
  const gateway = await createApp({ config, store: createMemoryStore(), logSink: () => {} });
  const served = new WeakSet<Headers>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request, info) => {
    served.add(request.headers);
    return gateway.fetch(request, info);
  });
  const counts: Counts = { get: 0, has: 0, forEach: 0, iterate: 0 };
  const proto = Headers.prototype;
  const originals = {
    get: proto.get,
    has: proto.has,
    forEach: proto.forEach,
    entries: proto.entries,
    [Symbol.iterator]: proto[Symbol.iterator],
  };
  const counted = <F extends (...args: never[]) => unknown>(name: keyof Counts, f: F): F =>
    function (this: Headers, ...args: Parameters<F>) {
      if (served.has(this)) counts[name]++;
      return f.apply(this, args);
    } as F;
  proto.get = counted("get", originals.get);
  proto.has = counted("has", originals.has);
  proto.forEach = counted("forEach", originals.forEach);
  proto.entries = counted("iterate", originals.entries);
  proto[Symbol.iterator] = counted("iterate", originals[Symbol.iterator]);
  try {
    await run(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    Object.assign(proto, originals);
    await server.shutdown();
    await gateway.sync(true);
    await fake.close();
  }
  return counts;
}

const PROMPT = { contents: [{ role: "user", parts: [{ text: "hello" }] }] };
const ONCE: Counts = { get: 0, has: 0, forEach: 1, iterate: 0 };

Deno.test("hot path: a generateContent request's headers are read once, CORS included", async () => {
  const counts = await countHeaderReads(async (url) => {
    const response = await fetch(`${url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: {
        "x-goog-api-key": TOKEN,
        "content-type": "application/json",
        "user-agent": "google-genai-sdk/1.0",
        origin: "https://app.example",
      },
      body: JSON.stringify(PROMPT),
    });
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("access-control-allow-origin"), "*");
    assertEquals(response.headers.get("x-request-id")?.length! > 0, true);
    await response.body?.cancel();
  });
  assertEquals(counts, ONCE);
});

Deno.test("hot path: a streamed and an OpenAI request's headers are read once each", async () => {
  const counts = await countHeaderReads(async (url) => {
    const stream = await fetch(
      `${url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
        body: JSON.stringify(PROMPT),
      },
    );
    assertEquals(stream.status, 200);
    assertEquals(stream.headers.get("access-control-allow-origin"), null);
    await stream.text();
    const chat = await fetch(`${url}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "hello" }],
      }),
    });
    assertEquals(chat.status, 200);
    await chat.text();
  });
  assertEquals(counts, { ...ONCE, forEach: 2 });
});

Deno.test("hot path: hostile headers are read once too, and none is echoed", async () => {
  const counts = await countHeaderReads(async (url) => {
    const generate = (headers: Record<string, string>) =>
      fetch(`${url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(PROMPT),
      });
    // A flood of distinct names (the runtime's HTTP server refuses past 100 headers), under the
    // size limit: served, CORS for any origin value.
    const flood = Object.fromEntries(
      Array.from({ length: 90 }, (_, i) => [`x-flood-${i}`, `v${i}`]),
    );
    const origin = "https://evil.example/" + "%2F".repeat(200);
    const ok = await generate({ ...flood, "x-goog-api-key": TOKEN, origin });
    assertEquals(ok.status, 200);
    assertEquals(ok.headers.get("access-control-allow-origin"), "*");
    assertEquals((await ok.text()).includes("evil.example"), false);
    // The credential header twice, two values: joined, refused, neither echoed.
    const twice = await generate({ "x-goog-api-key": "gp-first-secret-value, gp-second-value" });
    assertEquals(twice.status, 401);
    const text = await twice.text();
    assertEquals(text.includes("gp-first") || text.includes("gp-second"), false);
    // Over the header size limit: refused before anything else reads them.
    const huge = await generate({ "x-goog-api-key": TOKEN, "x-big": "a".repeat(40_000) });
    assertEquals(huge.status, 431);
    await huge.body?.cancel();
  });
  assertEquals(counts, { ...ONCE, forEach: 3 });
});
