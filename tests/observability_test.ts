/**
 * Request logs, aggregates and metrics, end to end over real sockets.
 */
import parsePrometheus from "parse-prometheus-text-format";
import OpenAI from "openai";
import type { LogRecord } from "../core/store/log_record.ts";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./support/assert.ts";
import {
  fakeKeys,
  type Harness,
  type HarnessOptions,
  startHarness,
  TOKEN,
} from "./support/harness.ts";
import { leaveHeldStream } from "./support/leave_stream.ts";
import { tailLogs } from "./support/log_tail.ts";

const ADMIN = "admin-password-for-tests";
const admin = { authorization: `Bearer ${ADMIN}` };
const FLASH = "gemini-2.5-flash";

async function withHarness(
  options: HarnessOptions,
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = await startHarness({ ...options, env: { ADMIN_PASSWORD: ADMIN, ...options.env } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

async function allLogs(h: Harness): Promise<LogRecord[]> {
  await h.proxy.gateway.settle();
  const response = await fetch(`${h.proxy.url}/admin/api/logs?limit=500`, { headers: admin });
  return (await response.json()).logs;
}

function post(
  h: Harness,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${h.proxy.url}${path}`, {
    method: "POST",
    headers: { "x-goog-api-key": TOKEN, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const prompt = (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] });

Deno.test("every request of a mixed run has exactly one log record with the upstream's usage", () =>
  withHarness({ keys: fakeKeys(3) }, async (h) => {
    const [k1] = fakeKeys(3);
    const ids: string[] = [];
    const expectUsage = new Map<string, number>();
    async function run(response: Response): Promise<void> {
      const text = await response.text();
      const id = response.headers.get("x-request-id");
      assert(id, "x-request-id on every answer");
      ids.push(id);
      const index = response.headers.get("x-fake-request-index");
      if (index !== null && response.ok) {
        const record = h.fake.requests[Number(index)]!;
        await record.done;
        const sent = record.responseBody;
        const totals = [...sent.matchAll(/"totalTokenCount":\s*(\d+)|"total_tokens":\s*(\d+)/g)];
        const last = totals.at(-1);
        if (last) expectUsage.set(id, Number(last[1] ?? last[2]));
      }
      assert(text.length >= 0);
    }
    await run(await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("one two three")));
    await run(
      await post(
        h,
        `/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`,
        prompt("stream me please"),
      ),
    );
    await run(
      await post(h, `/v1beta/models/${FLASH}:streamGenerateContent`, prompt("json array stream")),
    );
    await run(
      await post(h, "/v1beta/openai/chat/completions", {
        model: FLASH,
        messages: [{ role: "user", content: "hi" }],
      }, { authorization: `Bearer ${TOKEN}` }),
    );
    await run(
      await post(h, "/v1beta/openai/chat/completions", {
        model: FLASH,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "hi there" }],
      }, { authorization: `Bearer ${TOKEN}` }),
    );
    h.fake.failAll({ kind: "bad_request" }, { times: 1 });
    await run(await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("bad")));
    h.fake.failFor(k1!, { kind: "quota", scope: "minute", retryDelaySeconds: 30 }, { times: 1 });
    for (let i = 0; i < 3; i++) {
      await run(await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt(`failover ${i}`)));
    }
    await run(
      await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("x"), {
        "x-goog-api-key": "gp-unknown",
      }),
    );

    const logs = await allLogs(h);
    assertEquals(logs.length, ids.length, "one record per request");
    assertEquals(logs.map((l) => l.id).sort(), [...ids].sort());
    for (const log of logs) {
      const expected = expectUsage.get(log.id);
      if (expected !== undefined) {
        assertEquals(log.usage?.total, expected, `usage of ${log.method}`);
      }
    }
    const failover = logs.find((l) => l.attempts.length === 2)!;
    assertEquals(
      [failover.attempts[0]!.status, failover.attempts[0]!.errorClass, failover.status],
      [429, "quota_minute", 200],
    );
    const bad = logs.find((l) => l.status === 400)!;
    assertEquals([bad.errorClass, bad.attempts.length], ["client_error", 1]);
    const stranger = logs.find((l) => l.status === 401)!;
    assertEquals([stranger.errorClass, stranger.tokenId, stranger.attempts.length], [
      "auth",
      null,
      0,
    ]);
    const streams = logs.filter((l) => l.stream);
    assertEquals(streams.length, 3);
    for (const s of streams) assertEquals([s.truncated, s.finishReason !== null], [false, true]);
    const openai = logs.filter((l) => l.flavour === "openai");
    assertEquals(openai.map((l) => l.model), [FLASH, FLASH]);
    for (const log of logs) {
      assertNotIncludes(JSON.stringify(log), TOKEN);
      for (const key of fakeKeys(3)) assertNotIncludes(JSON.stringify(log), key);
    }
  }));

Deno.test("a stream's first chunk reaches the client before its log is written, which has final usage", () =>
  withHarness({ fake: { streamChunks: 4 } }, async (h) => {
    const hold = h.fake.holdStreamChunk(2);
    const response = await post(
      h,
      `/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`,
      prompt("hold on"),
    );
    const id = response.headers.get("x-request-id")!;
    const reader = response.body!.getReader();
    await reader.read();
    await hold.reached;
    await h.proxy.gateway.logs.flush();
    const early = await fetch(`${h.proxy.url}/admin/api/logs/${id}`, { headers: admin });
    assertEquals(early.status, 404, "no record while the stream is open");
    await early.body?.cancel();
    hold.release();
    while (!(await reader.read()).done) { /* drain */ }
    await h.proxy.gateway.logs.flush();
    const record: LogRecord =
      await (await fetch(`${h.proxy.url}/admin/api/logs/${id}`, { headers: admin })).json();
    const sent = h.fake.requests.at(-1)!.responseBody;
    const final = JSON.parse(sent.trim().split("\r\n\r\n").at(-1)!.slice(6)).usageMetadata;
    assertEquals(record.usage?.total, final.totalTokenCount);
    assertEquals(record.usage?.prompt, final.promptTokenCount);
    assertEquals(record.finishReason, "STOP");
    assert(record.bytesOut > 0 && record.ttfbMs !== null);
  }));

Deno.test("a stream cut by the client or by an upstream error is marked truncated", () =>
  withHarness({ fake: { streamChunks: 10 } }, async (h) => {
    const tail = tailLogs(h.proxy.gateway.logs);
    h.fake.failAll({ kind: "cut_stream", afterChunks: 2, error: 503 }, { times: 1 });
    const cut = await post(
      h,
      `/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`,
      prompt("cut"),
    );
    const cutId = cut.headers.get("x-request-id")!;
    await cut.text();
    const hold = h.fake.holdStreamChunk(1);
    const controller = new AbortController();
    const left = await fetch(
      `${h.proxy.url}/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN },
        body: JSON.stringify(prompt("leave")),
        signal: controller.signal,
      },
    );
    const leftId = left.headers.get("x-request-id")!;
    const reader = left.body!.getReader();
    await reader.read();
    await hold.reached;
    await leaveHeldStream(h.fake, {
      hold,
      lastChunk: 9,
      async leave() {
        controller.abort();
        await reader.cancel().catch(() => {});
      },
    });
    // The proxy queues the record once it has seen the client leave.
    await tail.record(leftId);
    tail.close();
    const logs = await allLogs(h);
    const cutLog = logs.find((l) => l.id === cutId)!;
    assertEquals([cutLog.truncated, cutLog.errorClass], [true, "mid_stream_error"]);
    const leftLog = logs.find((l) => l.id === leftId)!;
    assertEquals([leftLog.truncated, leftLog.errorClass], [true, "client_cancelled"]);
  }));

Deno.test("/metrics parses as Prometheus text and its counters match the logs", () =>
  withHarness({ env: { METRICS_TOKEN: "metrics-token-123" } }, async (h) => {
    for (let i = 0; i < 5; i++) {
      await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt(`m ${i}`))).text();
    }
    const client = new OpenAI({
      apiKey: TOKEN,
      baseURL: `${h.proxy.url}/v1beta/openai/`,
      maxRetries: 0,
    });
    await client.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: "x" }],
    });
    await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("x"), {
      "x-goog-api-key": "nope",
    })).text();
    await h.proxy.gateway.settle();
    const closed = await fetch(`${h.proxy.url}/metrics`);
    assertEquals(closed.status, 401);
    await closed.body?.cancel();
    const text = await (await fetch(`${h.proxy.url}/metrics`, {
      headers: { authorization: "Bearer metrics-token-123" },
    })).text();
    const families = parsePrometheus(text) as {
      name: string;
      type: string;
      metrics: {
        value?: string;
        labels?: Record<string, string>;
        buckets?: Record<string, string>;
      }[];
    }[];
    const family = (name: string) => families.find((f) => f.name === name)!;
    const logs = await allLogs(h);
    const requests = family("gemini_proxy_requests_total");
    const sum = requests.metrics.reduce((n, m) => n + Number(m.value), 0);
    assertEquals(sum, logs.length);
    const ok = requests.metrics.find((m) =>
      m.labels?.status === "200" && m.labels?.flavour === "native"
    );
    assertEquals(
      Number(ok?.value),
      logs.filter((l) => l.status === 200 && l.flavour === "native").length,
    );
    const tokens = family("gemini_proxy_tokens_total").metrics.find((m) =>
      m.labels?.kind === "total" && m.labels?.model === FLASH
    );
    assertEquals(Number(tokens?.value), logs.reduce((n, l) => n + (l.usage?.total ?? 0), 0));
    assertEquals(family("gemini_proxy_upstream_latency_seconds").type, "HISTOGRAM");
    const keys = family("gemini_proxy_keys").metrics;
    assertEquals(Number(keys.find((m) => m.labels?.state === "enabled")?.value), 3);
    assertEquals(Number(family("gemini_proxy_logs_written_total").metrics[0]?.value), logs.length);
    assertEquals(Number(family("gemini_proxy_logs_dropped_total").metrics[0]?.value), 0);
  }));

Deno.test("/metrics shows cooling keys with the seconds until they free up", () =>
  withHarness({}, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "quota", scope: "minute", retryDelaySeconds: 42 });
    for (let i = 0; i < 3; i++) {
      await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("x"))).text();
    }
    const text = await (await fetch(`${h.proxy.url}/metrics`)).text();
    assertStringIncludes(text, 'gemini_proxy_keys{state="cooling"} 1');
    assertStringIncludes(
      text,
      `gemini_proxy_key_cooldown_seconds{key="AIza...0001",model="${FLASH}"} 42`,
    );
  }));

Deno.test("stats API answers time series from aggregates, grouped by model", () =>
  withHarness({}, async (h) => {
    for (let i = 0; i < 4; i++) {
      await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("a b"))).text();
    }
    await (await post(h, "/v1beta/models/gemini-2.5-pro:generateContent", prompt("c"))).text();
    h.clock.now += 2 * 3_600_000;
    await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("later"))).text();
    await h.proxy.gateway.settle();
    for (const range of ["1h", "24h", "7d", "30d"]) {
      const stats =
        await (await fetch(`${h.proxy.url}/admin/api/stats?range=${range}&group=model`, {
          headers: admin,
        })).json();
      const flash = stats.series.find((s: { group: string }) => s.group === FLASH);
      const total = flash.requests.reduce((a: number, b: number) => a + b, 0);
      assertEquals(total, range === "1h" ? 1 : 5, `range ${range}`);
      assert(stats.totals.tokens.total > 0);
    }
    for (const group of ["none", "keyId", "tokenId"]) {
      const stats = await (await fetch(`${h.proxy.url}/admin/api/stats?range=24h&group=${group}`, {
        headers: admin,
      })).json();
      const total = stats.series.flatMap((x: { requests: number[] }) => x.requests)
        .reduce((a: number, b: number) => a + b, 0);
      assertEquals(total, 6, `group=${group} counts every request once`);
    }
    const bad = await fetch(`${h.proxy.url}/admin/api/stats?range=2y`, { headers: admin });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  }));

Deno.test("logs API filters by status, model, stream and id, and pages with a cursor", () =>
  withHarness({}, async (h) => {
    for (let i = 0; i < 7; i++) {
      await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("x"))).text();
    }
    h.fake.failAll({ kind: "bad_request" }, { times: 2 });
    for (let i = 0; i < 2; i++) {
      await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("x"))).text();
    }
    await h.proxy.gateway.settle();
    const get = async (q: string) =>
      await (await fetch(`${h.proxy.url}/admin/api/logs?${q}`, { headers: admin })).json();
    assertEquals((await get("status=4xx")).logs.length, 2);
    assertEquals((await get("status=200&model=" + FLASH)).logs.length, 7);
    const page1 = await get("limit=5");
    const page2 = await get(`limit=5&cursor=${page1.cursor}`);
    assertEquals([page1.logs.length, page2.logs.length, page2.cursor], [5, 4, null]);
    const one = page2.logs[0];
    assertEquals((await get(`q=${one.id}`)).logs.map((l: LogRecord) => l.id), [one.id]);
    assertEquals((await get("stream=true")).logs.length, 0);
  }));

Deno.test("the live tail streams records as requests finish", () =>
  withHarness({}, async (h) => {
    const tail = await fetch(`${h.proxy.url}/admin/api/logs/tail`, { headers: admin });
    const reader = tail.body!.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    const response = await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("tail me"));
    const id = response.headers.get("x-request-id")!;
    await response.text();
    let seen = "";
    while (!seen.includes(id)) seen += (await reader.read()).value ?? "";
    await reader.cancel();
    assertStringIncludes(seen, "data: {");
  }));

Deno.test("LOG_BODIES=errors keeps error bodies, truncated and with keys redacted", () =>
  withHarness({ env: { LOG_BODIES: "errors" } }, async (h) => {
    h.fake.failAll({ kind: "bad_request" }, { times: 1 });
    const response = await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("x"));
    await response.text();
    await (await post(h, `/v1beta/models/${FLASH}:generateContent`, prompt("y"))).text();
    const logs = await allLogs(h);
    const failed = logs.find((l) => l.status === 400)!;
    assertStringIncludes(failed.responseBody ?? "", "Unknown name");
    for (const log of logs) for (const k of fakeKeys(3)) assertNotIncludes(JSON.stringify(log), k);
  }));

Deno.test("/healthz reports the log queue", () =>
  withHarness({}, async (h) => {
    const body = await (await fetch(`${h.proxy.url}/healthz`)).json();
    assertEquals(body.logs, {
      queued: 0,
      countersPending: 0,
      dropped: 0,
      written: 0,
      failing: false,
    });
    assert(typeof body.store.latencyMs === "number");
  }));
