/**
 * Every stream is charged: OpenAI-compatible streams whose client did not ask for usage are
 * charged all the same (the proxy asks upstream for it and hides it from the client), and a
 * stream that ends without usage is logged and counted as `usage unknown`, never as 0.
 * Real sockets, the real `openai` client, the fake upstream and the harness's clock.
 */
import OpenAI from "openai";
import parsePrometheus from "parse-prometheus-text-format";
import type { LogRecord } from "../core/store/log_record.ts";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./support/assert.ts";
import { startServer } from "../adapters/deno/server.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { fakeKeys, type Harness, SECRET, startHarness, TOKEN } from "./support/harness.ts";
import { leaveHeldStream } from "./support/leave_stream.ts";
import { comparable, upstreamWithoutUsage } from "./support/openai_stream.ts";

const ADMIN = "admin-password-for-tests";
const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const FLASH = "gemini-2.5-flash";
/** "hello there friend": 3 prompt tokens and "Echo: hello there friend", 4 reply tokens. */
const PROMPT = "hello there friend";

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, METRICS_TOKEN: "metrics-1" } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

async function tokenWithTpd(h: Harness, tpd: number): Promise<string> {
  const response = await fetch(`${h.proxy.url}/admin/api/tokens`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ name: `tpd-${tpd}-${crypto.randomUUID()}`, limits: { tpd } }),
  });
  assertEquals(response.status, 201);
  return (await response.json()).secret;
}

/** An OpenAI client that also keeps each request body it sent and each raw answer it got. */
function client(h: Harness, secret: string) {
  const sent: string[] = [];
  const received: Promise<string>[] = [];
  const openai = new OpenAI({
    apiKey: secret,
    baseURL: `${h.proxy.url}/v1beta/openai/`,
    maxRetries: 0,
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      sent.push(String(init?.body ?? ""));
      const response = await fetch(url, init);
      received.push(response.clone().text());
      return response;
    },
  });
  return { openai, sent, received };
}

async function refusal(promise: Promise<unknown>): Promise<number | null> {
  try {
    const stream = await promise;
    if (stream && typeof stream === "object" && Symbol.asyncIterator in stream) {
      for await (const _ of stream as AsyncIterable<unknown>) { /* drain */ }
    }
    return null;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}

async function logs(h: Harness): Promise<LogRecord[]> {
  await h.proxy.gateway.settle();
  const response = await fetch(`${h.proxy.url}/admin/api/logs?limit=100`, { headers: admin });
  return (await response.json()).logs;
}

Deno.test("an OpenAI stream without include_usage is charged, and its client sees no usage chunk", () =>
  withHarness(async (h) => {
    const secret = await tokenWithTpd(h, 5);
    const { openai, sent, received } = client(h, secret);
    const chunks: Record<string, unknown>[] = [];
    const stream = await openai.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: PROMPT }],
      stream: true,
    });
    for await (const chunk of stream) chunks.push(chunk as unknown as Record<string, unknown>);
    assertEquals(chunks.map((c) => "usage" in c), [false, false, false]);

    // Upstream was asked for usage; every other byte of the client's body went as it was.
    const upstream = h.fake.requests.at(-1)!;
    assertEquals(upstream.body, `{"stream_options":{"include_usage":true},${sent[0]!.slice(1)}`);
    assertEquals(
      upstream.headers["content-length"],
      String(new TextEncoder().encode(upstream.body!).byteLength),
    );
    await upstream.done;
    assert(upstream.responseBody.includes('"usage":{'), "upstream sent the usage chunk");
    // The client got exactly what upstream sends a client that did not ask for usage.
    assertEquals(
      comparable(await received[0]!),
      await upstreamWithoutUsage(h.fake.url, upstream.body!),
    );

    // 7 tokens charged against a limit of 5: the next call is refused, as a native one would be.
    const before = h.fake.requests.length;
    const next = openai.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: PROMPT }],
      stream: true,
    });
    assertEquals(await refusal(next), 429);
    assertEquals(h.fake.requests.length, before, "refused before any upstream call");
    const [log] = (await logs(h)).filter((l) => l.flavour === "openai" && l.status === 200);
    assertEquals([log?.usage?.total, log?.usageUnknown ?? false], [7, false]);
  }));

Deno.test("an OpenAI client that asks for include_usage gets upstream's stream unchanged", () =>
  withHarness(async (h) => {
    const secret = await tokenWithTpd(h, 5);
    const { openai, sent, received } = client(h, secret);
    const chunks: { choices: unknown[]; usage?: { total_tokens: number } | null }[] = [];
    const stream = await openai.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: PROMPT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) chunks.push(chunk);
    assertEquals(chunks.map((c) => c.usage?.total_tokens ?? c.usage), [null, null, null, 7]);
    assertEquals(chunks.at(-1)!.choices, []);
    const upstream = h.fake.requests.at(-1)!;
    await upstream.done;
    assertEquals(upstream.body, sent[0]);
    assertEquals(await received[0]!, upstream.responseBody);
    const next = openai.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: PROMPT }],
    });
    assertEquals(await refusal(next), 429);
  }));

Deno.test("a stream that ends without usage is logged as usage unknown and counted", () =>
  withHarness(async (h) => {
    // Room for every request's kept reservation: this test is about what is logged.
    const secret = await tokenWithTpd(h, 1_000_000);
    const { openai } = client(h, secret);
    // Every content chunk arrives, then the stream ends before the usage chunk.
    h.fake.failAll({ kind: "cut_stream", afterChunks: 3 }, { times: 1 });
    const deltas: string[] = [];
    const stream = await openai.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: PROMPT }],
      stream: true,
    });
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? "");
    assertEquals(deltas.join(""), `Echo: ${PROMPT}`);
    // A native SSE stream and a native JSON-array stream that end without usageMetadata.
    for (const alt of ["?alt=sse", ""]) {
      h.fake.failAll({ kind: "cut_stream", afterChunks: 0 }, { times: 1 });
      const native = await fetch(
        `${h.proxy.url}/v1beta/models/${FLASH}:streamGenerateContent${alt}`,
        {
          method: "POST",
          headers: { "x-goog-api-key": secret, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: PROMPT }] }] }),
        },
      );
      assertEquals(native.status, 200);
      await native.text();
    }
    // And one whole stream, whose usage is known.
    const whole = await fetch(
      `${h.proxy.url}/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": secret, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: PROMPT }] }] }),
      },
    );
    await whole.text();

    const records = (await logs(h)).filter((l) => l.stream).sort((a, b) => a.id < b.id ? -1 : 1);
    assertEquals(
      records.map((l) => [l.flavour, l.usage?.total ?? null, l.usageUnknown ?? false]),
      [["openai", null, true], ["native", null, true], ["native", null, true], [
        "native",
        7,
        false,
      ]],
    );
    const metrics = await (await fetch(`${h.proxy.url}/metrics`, {
      headers: { authorization: "Bearer metrics-1" },
    })).text();
    const family = parsePrometheus(metrics).find((f: { name: string }) =>
      f.name === "gemini_proxy_usage_unknown_total"
    );
    assertEquals(
      Object.fromEntries(
        (family?.metrics ?? []).map((m: { labels: { flavour: string }; value: string }) => [
          m.labels.flavour,
          Number(m.value),
        ]),
      ),
      { openai: 1, native: 2 },
    );
    const stats = await (await fetch(`${h.proxy.url}/admin/api/stats?range=1h`, {
      headers: admin,
    })).json();
    assertEquals(stats.totals.usageUnknown, 3);

    // The console says so: on the request's page and on the dashboard.
    const login = await fetch(`${h.proxy.url}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ password: ADMIN, next: "/admin" }),
      redirect: "manual",
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const page = await (await fetch(`${h.proxy.url}/admin/logs/${records[0]!.id}`, {
      headers: { cookie },
    })).text();
    assertStringIncludes(page, "unknown: the stream ended without usage");
    const known = await (await fetch(`${h.proxy.url}/admin/logs/${records[3]!.id}`, {
      headers: { cookie },
    })).text();
    assertNotIncludes(known, "unknown: the stream ended without usage");
    const dashboard = await (await fetch(`${h.proxy.url}/admin`, { headers: { cookie } })).text();
    assertStringIncludes(dashboard, "3 streams unknown");
  }));

Deno.test("a stream cut short before its usage arrives keeps its tpd reservation: leaving early is not free", () =>
  withHarness(async (h) => {
    // One request reserves about 1,030 tokens (its prompt plus the default output allowance):
    // a second fits in 1,500 only if the first one's reservation came back.
    const secret = await tokenWithTpd(h, 1500);
    const hold = h.fake.holdStreamChunk(1);
    const finished = new Promise<LogRecord>((resolve) => {
      const stop = h.proxy.gateway.logs.subscribe((record) => {
        stop();
        resolve(record);
      });
    });
    const controller = new AbortController();
    const response = await fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: FLASH,
        stream: true,
        messages: [{ role: "user", content: PROMPT }],
      }),
      signal: controller.signal,
    });
    assertEquals(response.status, 200);
    const reader = response.body!.getReader();
    await reader.read();
    await hold.reached;
    // Three chunks, then the usage chunk (index 3) the proxy asked for: held there, upstream
    // cannot send the usage before the proxy has seen the client leave.
    await leaveHeldStream(h.fake, {
      hold,
      lastChunk: 3,
      async leave() {
        controller.abort();
        await reader.cancel().catch(() => {});
      },
    });
    const record = await finished;
    assertEquals([record.usage, record.usageUnknown], [null, true]);
    const { openai } = client(h, secret);
    assertEquals(
      await refusal(openai.chat.completions.create({
        model: FLASH,
        messages: [{ role: "user", content: PROMPT }],
      })),
      429,
    );
  }));

Deno.test("an OpenAI stream relayed to a fallback deployment is hidden and charged all the same", async () => {
  const fake = await startFakeUpstream();
  const [keyA, keyB] = fakeKeys(2) as [string, string];
  fake.failFor(keyA, { kind: "location" });
  const env = (key: string) => ({
    PORT: "0",
    STORE: "memory",
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: key,
    PROXY_TOKENS: TOKEN,
    ADMIN_PASSWORD: ADMIN,
    RELAY_SECRET: "relay-secret-shared-by-tests-0123",
    RETRY_BACKOFF_MS: "0",
    LOG_LEVEL: "warn",
  });
  const b = await startServer(env(keyB), { logSink: () => {} });
  const a = await startServer({ ...env(keyA), FALLBACK_PROXY_URLS: b.url }, { logSink: () => {} });
  try {
    const response = await fetch(`${a.url}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: FLASH,
        stream: true,
        messages: [{ role: "user", content: PROMPT }],
      }),
    });
    const text = await response.text();
    const upstream = fake.requests.at(-1)!;
    await upstream.done;
    assertEquals([upstream.key, JSON.parse(upstream.body!).stream_options], [keyB, {
      include_usage: true,
    }]);
    assertEquals(comparable(text), await upstreamWithoutUsage(fake.url, upstream.body!, keyB));
    assertNotIncludes(text, '"usage"');
    await a.gateway.settle();
    const logs = await (await fetch(`${a.url}/admin/api/logs?limit=10`, { headers: admin })).json();
    const relayed = (logs.logs as LogRecord[]).find((l) => l.relayedTo);
    assertEquals([relayed?.usage?.total, relayed?.usageUnknown ?? false], [7, false]);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
  }
});

Deno.test("a streamed chat naming stream or stream_options twice is refused before upstream", () =>
  withHarness(async (h) => {
    for (
      const body of [
        `{"model":"${FLASH}","stream":false,"stream":true,"messages":[]}`,
        `{"model":"${FLASH}","stream":true,"stream_options":{"include_usage":false},` +
        '"stream_options":{"include_usage":true},"messages":[]}',
      ]
    ) {
      const response = await fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body,
      });
      assertEquals(response.status, 400);
      assertEquals((await response.json()).error.status, "INVALID_ARGUMENT");
    }
    assertEquals(h.fake.requests.length, 0);
  }));
