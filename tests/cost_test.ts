/**
 * Cost end to end: every request's log record, the stats and `/metrics` carry its cost in µUSD
 * at the configured prices (unknown, never 0, when the model has no price), and a token's
 * monthly budget is reserved at admission, settled to real costs, and refused with
 * `429 TOKEN_BUDGET_EXCEEDED` until the Pacific month ends. Real sockets, the real
 * `@google/genai` and `openai` clients, the fake upstream and the harness's clock
 * (2026-01-15 12:00 PST).
 *
 * The fake counts one token per word: "one two three four five" is 5 prompt tokens and its reply
 * "Echo: one two three four five" 6 output tokens. On gemini-2.5-flash ($0.30 in, $2.50 out per
 * 1M tokens) that is 5 × 0.30 + 6 × 2.50 = 16.5 µUSD, rounded half up to 17.
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import parsePrometheus from "parse-prometheus-text-format";
import type { LogRecord } from "../core/store/log_record.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { type Harness, startHarness, TOKEN } from "./support/harness.ts";

const ADMIN = "admin-password-for-tests";
const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const FLASH = "gemini-2.5-flash";
const FIVE = "one two three four five";
/** The cost of FIVE on gemini-2.5-flash, µUSD (see the module doc). */
const FIVE_ON_FLASH = 17;
const MONTH_END = Date.parse("2026-02-01T08:00:00Z");
const isGenerate = (path: string) => /:(stream)?[gG]enerateContent$/.test(path);

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, METRICS_TOKEN: "metrics-1" } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

async function api(h: Harness, path: string, method = "GET", body?: unknown): Promise<Response> {
  return await fetch(`${h.proxy.url}/admin/api${path}`, {
    method,
    headers: admin,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function budgetToken(
  h: Harness,
  budgetMicros: number,
): Promise<{ id: string; secret: string }> {
  const response = await api(h, "/tokens", "POST", { name: "budget", limits: { budgetMicros } });
  const json = await response.json();
  assertEquals(response.status, 201, JSON.stringify(json));
  assertEquals(json.token.limits, { budgetMicros });
  return { id: json.token.id, secret: json.secret };
}

/** The reservation of a request body of `bytes` bytes asking for at most 10 output tokens. */
function estimateOnFlash(bytes: number): number {
  // ceil(bytes / 4) prompt tokens at $0.30 and 10 output tokens at $2.50, rounded half up.
  return Math.floor((Math.ceil(bytes / 4) * 300_000 + 10 * 2_500_000 + 500_000) / 1_000_000);
}

async function logsOf(h: Harness, tokenId: string): Promise<LogRecord[]> {
  await h.proxy.gateway.settle();
  const response = await api(h, `/logs?tokenId=${tokenId}&limit=500`);
  return (await response.json()).logs;
}

Deno.test("a budgeted token spends its budget through @google/genai, then gets 429 TOKEN_BUDGET_EXCEEDED until the month ends", () =>
  withHarness(async (h) => {
    const budget = 100;
    const { id, secret } = await budgetToken(h, budget);
    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: h.proxy.url } });
    const ask = () =>
      ai.models.generateContent({ model: FLASH, contents: FIVE, config: { maxOutputTokens: 10 } });
    let served = 0;
    let refusal: unknown = null;
    for (let i = 0; i < 10 && refusal === null; i++) {
      try {
        assertEquals((await ask()).text, `Echo: ${FIVE}`);
        served++;
      } catch (error) {
        refusal = error;
      }
    }
    assert(refusal instanceof ApiError, String(refusal));
    assertEquals(refusal.status, 429);
    assertStringIncludes(refusal.message, "budget of $0.0001 a month");
    // The k-th request (from 0) is admitted while 17 k + estimate fits in 100.
    const generated = h.fake.requests.filter((r) => isGenerate(r.path));
    const estimate = estimateOnFlash(generated[0]!.bodyBytes);
    assert(estimate > FIVE_ON_FLASH && estimate <= budget, `estimate ${estimate}`);
    assertEquals(served, Math.floor((budget - estimate) / FIVE_ON_FLASH) + 1);
    assertEquals(generated.length, served, "nothing refused reached upstream");

    const raw = await fetch(`${h.proxy.url}/v1beta/models/${FLASH}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": secret, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: FIVE }] }] }),
    });
    const seconds = (MONTH_END - h.clock.now) / 1000;
    assertEquals([raw.status, raw.headers.get("retry-after")], [429, String(seconds)]);
    const error = (await raw.json()).error;
    assertEquals(error.status, "RESOURCE_EXHAUSTED");
    const detail = (type: string) =>
      error.details.find((d: { "@type": string }) => d["@type"].endsWith(type));
    assertEquals(detail("ErrorInfo").reason, "TOKEN_BUDGET_EXCEEDED");
    assertEquals(detail("RetryInfo").retryDelay, `${seconds}s`);
    assertEquals(detail("QuotaFailure").violations[0].quotaValue, String(budget));
    assert((await ai.models.list()).page.length > 0, "calls Google does not bill still pass");

    // Spending reaches the store with the instance's next sync.
    await h.proxy.gateway.sync();
    const view = await (await api(h, `/tokens/${id}`)).json();
    assertEquals(view.usage.month.costMicros, served * FIVE_ON_FLASH);
    assertEquals(view.usage.month.resetsAt, MONTH_END);
    const logs = await logsOf(h, id);
    const billed = logs.filter((l) => l.method === "generateContent");
    assertEquals(
      billed.filter((l) => l.status === 200).map((l) => l.costMicros),
      Array(served).fill(17),
    );
    for (const l of billed.filter((l) => l.status === 429)) {
      assertEquals([l.costMicros, l.errorClass], [0, "token_quota"]);
    }

    h.clock.now = MONTH_END;
    assertEquals((await ask()).text, `Echo: ${FIVE}`, "a new Pacific month starts from nothing");
  }));

Deno.test("concurrent streams on a budget: exactly the reservations that fit are admitted", () =>
  withHarness(async (h) => {
    const body = JSON.stringify({
      contents: [{ role: "user", parts: [{ text: FIVE }] }],
      generationConfig: { maxOutputTokens: 10 },
    });
    const estimate = estimateOnFlash(new TextEncoder().encode(body).length);
    const { id, secret } = await budgetToken(h, 3 * estimate);
    const hold = h.fake.holdStreamChunk(0);
    // Every admitted stream waits upstream before its usage, so nothing settles meanwhile.
    const responses = await Promise.all(
      Array.from(
        { length: 10 },
        () =>
          fetch(`${h.proxy.url}/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`, {
            method: "POST",
            headers: { "x-goog-api-key": secret, "content-type": "application/json" },
            body,
          }),
      ),
    );
    const admitted = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    assertEquals([admitted.length, refused.length], [3, 7]);
    for (const r of refused) {
      assertEquals((await r.json()).error.details[0].reason, "TOKEN_BUDGET_EXCEEDED");
    }
    await h.proxy.gateway.sync();
    const held = await (await api(h, `/tokens/${id}`)).json();
    assertEquals(held.usage.month.costMicros, 3 * estimate, "three reservations in flight");
    hold.release();
    for (const r of admitted) assertStringIncludes(await r.text(), "usageMetadata");
    await h.proxy.gateway.settle();
    const settled = await (await api(h, `/tokens/${id}`)).json();
    assertEquals(settled.usage.month.costMicros, 3 * FIVE_ON_FLASH, "settled to what they cost");
  }));

Deno.test("log records, stats and /metrics carry cost; thinking, cache and OpenAI usage are priced, an unpriced model is unknown", () =>
  withHarness(async (h) => {
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: h.proxy.url } });
    // Thinking at the output rate: 5 × 0.30 + (6 + 100) × 2.50 = 266.5 -> 267.
    const thought = await ai.models.generateContent({
      model: FLASH,
      contents: FIVE,
      config: { thinkingConfig: { thinkingBudget: 100 } },
    });
    assertEquals(thought.usageMetadata?.thoughtsTokenCount, 100);
    // Cached tokens at the cache rate, taken out of the prompt: a 1000-word cache, then
    // "one two three": 3 × 0.30 + 1000 × 0.03 + 4 × 2.50 = 40.9 -> 41.
    const cache = await ai.caches.create({
      model: FLASH,
      config: { contents: [{ role: "user", parts: [{ text: "word ".repeat(1000) }] }] },
    });
    const cached = await ai.models.generateContent({
      model: FLASH,
      contents: "one two three",
      config: { cachedContent: cache.name! },
    });
    assertEquals(cached.usageMetadata?.cachedContentTokenCount, 1000);
    // gemini-2.5-pro: 5 × 1.25 + 6 × 10 = 66.25 -> 66.
    await ai.models.generateContent({ model: "gemini-2.5-pro", contents: FIVE });
    // OpenAI usage on gemini-2.5-flash: 17.
    const openai = new OpenAI({
      apiKey: TOKEN,
      baseURL: `${h.proxy.url}/v1beta/openai/`,
      maxRetries: 0,
    });
    await openai.chat.completions.create({
      model: FLASH,
      messages: [{ role: "user", content: FIVE }],
    });
    // gemini-2.0-flash without a price: its cost is unknown.
    const settings = await (await api(h, "/settings")).json();
    const { "gemini-2.0-flash": _dropped, ...prices } = settings.defaults.prices;
    assertEquals((await api(h, "/settings", "PATCH", { prices })).status, 200);
    await ai.models.generateContent({ model: "gemini-2.0-flash", contents: FIVE });

    await h.proxy.gateway.settle();
    const { logs } = await (await api(h, "/logs?limit=500")).json() as { logs: LogRecord[] };
    const cost = (model: string, method = "generateContent") =>
      logs.filter((l) => l.model === model && l.method === method)
        .map((l) => l.costMicros ?? (l.costUnknown ? "unknown" : "missing"))
        .sort();
    assertEquals(cost(FLASH), [267, 41].sort());
    assertEquals(cost(FLASH, "chat/completions"), [FIVE_ON_FLASH]);
    assertEquals(cost("gemini-2.5-pro"), [66]);
    assertEquals(cost("gemini-2.0-flash"), ["unknown"]);
    assertEquals(logs.find((l) => l.method === "cachedContents")?.costMicros, 0);

    const total = 267 + 41 + FIVE_ON_FLASH + 66;
    const byModel = await (await api(h, "/stats?range=1h&group=model")).json();
    assertEquals([byModel.totals.costMicros, byModel.totals.costUnknown], [total, 1]);
    const series = (stats: { series: { group: string; costMicros: number[] }[] }, group: string) =>
      stats.series.find((s) => s.group === group)?.costMicros.reduce((a, b) => a + b, 0);
    assertEquals(series(byModel, FLASH), 267 + 41 + FIVE_ON_FLASH);
    assertEquals(series(byModel, "gemini-2.5-pro"), 66);
    const byToken = await (await api(h, "/stats?range=1h&group=tokenId")).json();
    const tokenId = logs[0]!.tokenId!;
    assertEquals(series(byToken, tokenId), total);

    const text = await (await fetch(`${h.proxy.url}/metrics`, {
      headers: { authorization: "Bearer metrics-1" },
    })).text();
    const families = parsePrometheus(text) as {
      name: string;
      metrics: { value?: string; labels?: Record<string, string> }[];
    }[];
    const metric = (name: string, model: string) =>
      Number(
        families.find((f) => f.name === name)?.metrics.find((m) => m.labels?.model === model)
          ?.value,
      );
    assertEquals(metric("gemini_proxy_cost_micro_usd_total", FLASH), 267 + 41 + FIVE_ON_FLASH);
    assertEquals(metric("gemini_proxy_cost_micro_usd_total", "gemini-2.5-pro"), 66);
    assertEquals(metric("gemini_proxy_cost_unknown_total", "gemini-2.0-flash"), 1);

    const tokens = (await (await api(h, "/tokens")).json()).tokens as {
      id: string;
      usage: { month: { costMicros: number } };
    }[];
    assertEquals(tokens.find((t) => t.id === tokenId)?.usage.month.costMicros, total);
  }));

Deno.test("a budgeted token may not call an unpriced model or open a Live session: 403 before upstream", () =>
  withHarness(async (h) => {
    const { secret } = await budgetToken(h, 1_000_000);
    const unpriced = "gemini-2.0-flash";
    const settings = await (await api(h, "/settings")).json();
    const { [unpriced]: _dropped, ...prices } = settings.defaults.prices;
    assertEquals((await api(h, "/settings", "PATCH", { prices })).status, 200);
    const response = await fetch(`${h.proxy.url}/v1beta/models/${unpriced}:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": secret, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: FIVE }] }] }),
    });
    const error = (await response.json()).error;
    assertEquals([response.status, error.status], [403, "PERMISSION_DENIED"]);
    assertEquals(error.details[0].reason, "TOKEN_BUDGET_UNPRICED_MODEL");
    assertStringIncludes(error.message, `model "${unpriced}" has no price`);
    const live = await fetch(
      `${h.proxy.url}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${secret}`,
    );
    const liveError = (await live.json()).error;
    assertEquals([live.status, liveError.details[0].reason], [403, "TOKEN_BUDGET_UNMETERED"]);
    assertEquals(h.fake.requests.length, 0, "nothing reached upstream");
    // The same model costs "unknown" for a token without a budget, and is served.
    const open = await h.generate(unpriced, FIVE);
    assertEquals(open.status, 200);
    await open.body?.cancel();
  }));

Deno.test("the tokens API validates, shows and clears a monthly budget", () =>
  withHarness(async (h) => {
    for (const budgetMicros of [0, -5, 1.5, "5", 1e16]) {
      const response = await api(h, "/tokens", "POST", { name: "x", limits: { budgetMicros } });
      assertEquals(response.status, 400, String(budgetMicros));
      assertStringIncludes((await response.json()).error.message, "limits.budgetMicros");
    }
    const { id } = await budgetToken(h, 25_000_000);
    const patched = await (await api(h, `/tokens/${id}`, "PATCH", {
      limits: { rpm: 10, budgetMicros: 5_000_000 },
    })).json();
    assertEquals(patched.limits, { rpm: 10, budgetMicros: 5_000_000 });
    assertEquals(patched.usage.month.costMicros, 0);
    const cleared = await (await api(h, `/tokens/${id}`, "PATCH", {
      limits: { budgetMicros: null },
    })).json();
    assertEquals(cleared.limits, { rpm: 10 });
    const usage = await (await api(h, `/tokens/${id}/usage`)).json();
    assertEquals([usage.month.costMicros, usage.month.resetsAt], [0, MONTH_END]);
  }));
