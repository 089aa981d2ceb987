/**
 * Quota-aware rotation and failover, end to end: real sockets, the fake upstream, an injected
 * clock. Two processes sharing one KV file: `rotation_two_processes_test.ts`.
 */
import { createKvStore } from "../core/store/kv/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { countByKey, fakeKeys, type Harness, startHarness, TOKEN } from "./support/harness.ts";

const FLASH = "gemini-2.5-flash";
const PRO = "gemini-2.5-pro";
const isGenerate = (path: string) => path.endsWith(":generateContent");

async function withHarness(
  options: Parameters<typeof startHarness>[0],
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = await startHarness(options);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

async function expectOk(response: Response): Promise<void> {
  const text = await response.text();
  assertEquals(response.status, 200, text);
}

Deno.test("round_robin spreads 300 requests over 3 healthy keys 100 +/- 5 each", () =>
  withHarness({}, async (h) => {
    for (let i = 0; i < 30; i++) {
      await Promise.all(Array.from({ length: 10 }, () => h.generate().then(expectOk)));
    }
    const counts = [...countByKey(h.fake, isGenerate).values()];
    assertEquals(counts.length, 3);
    for (const n of counts) assert(Math.abs(n - 100) <= 5, `uneven split: ${counts}`);
  }));

Deno.test("a per-minute 429 cools that key for that model only, for RetryInfo's delay", () =>
  withHarness({}, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "quota", scope: "minute", retryDelaySeconds: 30 }, {
      model: FLASH,
    });
    for (let i = 0; i < 12; i++) await expectOk(await h.generate(FLASH));
    const flashHits = () =>
      h.fake.requests.filter((r) =>
        r.key === k1 && r.path.includes(FLASH) && r.responseStatus === 200
      ).length;
    const k1Flash = h.fake.requests.filter((r) => r.key === k1 && r.path.includes(FLASH));
    assertEquals(k1Flash.length, 1, "k1 was tried once for flash, got 429, then rested");
    for (let i = 0; i < 6; i++) await expectOk(await h.generate(PRO));
    assert(
      h.fake.requests.some((r) => r.key === k1 && r.path.includes(PRO)),
      "k1 still serves pro",
    );
    h.clock.now += 29_000;
    for (let i = 0; i < 6; i++) await expectOk(await h.generate(FLASH));
    assertEquals(flashHits(), 0, "still resting at 29 s");
    h.clock.now += 2_000;
    h.fake.reset();
    for (let i = 0; i < 6; i++) await expectOk(await h.generate(FLASH));
    assert(h.fake.requests.some((r) => r.key === k1), "k1 serves flash again after 30 s");
  }));

Deno.test("a per-day 429 rests the key until Pacific midnight, across a daylight-saving change", () =>
  // 2026-03-07 22:00 PST; midnight comes at 08:00 UTC, and the night changes to PDT.
  withHarness({ start: Date.parse("2026-03-08T06:00:00Z") }, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "quota", scope: "day" }, { times: 1 });
    for (let i = 0; i < 6; i++) await expectOk(await h.generate());
    assertEquals(h.fake.requests.filter((r) => r.key === k1).length, 1);
    h.clock.now = Date.parse("2026-03-08T07:59:58Z");
    for (let i = 0; i < 6; i++) await expectOk(await h.generate());
    assertEquals(h.fake.requests.filter((r) => r.key === k1).length, 1, "resting until midnight");
    h.clock.now = Date.parse("2026-03-08T08:00:01Z");
    for (let i = 0; i < 6; i++) await expectOk(await h.generate());
    assert(h.fake.requests.filter((r) => r.key === k1).length > 1, "back after Pacific midnight");
  }));

Deno.test("an invalid key is disabled after one failure with its reason stored, and never tried again", () =>
  withHarness({}, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "invalid_key" });
    for (let i = 0; i < 20; i++) await expectOk(await h.generate());
    assertEquals(h.fake.requests.filter((r) => r.key === k1).length, 1);
    await h.proxy.gateway.poolSync.settled();
    const store = createKvStore(await Deno.openKv(h.kvPath));
    try {
      const keys = await store.listKeys();
      const disabled = keys.filter((k) => !k.enabled);
      assertEquals(disabled.length, 1);
      assertEquals(disabled[0]?.disabledReason, "API_KEY_INVALID");
    } finally {
      await store.close();
    }
  }));

Deno.test("permission errors (service disabled, blocked, leaked) disable the key and fail over", () =>
  withHarness({}, async (h) => {
    const [k1, k2, k3] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "permission_denied", reason: "SERVICE_DISABLED" });
    h.fake.failFor(k2!, { kind: "permission_denied", reason: "LEAKED" });
    for (let i = 0; i < 6; i++) await expectOk(await h.generate());
    const enabled = h.proxy.gateway.registry.enabledKeys.map((k) => k.value);
    assertEquals(enabled, [k3]);
  }));

Deno.test("a client's bad payload reaches upstream once and costs no key anything", () =>
  withHarness({}, async (h) => {
    h.fake.failAll({ kind: "bad_request" });
    const response = await h.generate();
    assertEquals(response.status, 400);
    assertEquals((await response.json()).error.status, "INVALID_ARGUMENT");
    assertEquals(h.fake.requests.length, 1);
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
    assertEquals(h.proxy.gateway.pool.cooldowns(), []);
  }));

Deno.test("5xx and unreachable answers fail over to another key without blaming the first", () =>
  withHarness({}, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "status", code: 503 });
    for (let i = 0; i < 6; i++) await expectOk(await h.generate());
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
    assertEquals(h.proxy.gateway.pool.cooldowns(), []);
  }));

Deno.test("a 503 on every key reaches the client after MAX_ATTEMPTS distinct keys", () =>
  withHarness({ keys: fakeKeys(5), env: { MAX_ATTEMPTS: "3" } }, async (h) => {
    h.fake.failAll({ kind: "status", code: 503 });
    const response = await h.generate();
    assertEquals(response.status, 503);
    await response.body?.cancel();
    const keys = new Set(h.fake.requests.map((r) => r.key));
    assertEquals([h.fake.requests.length, keys.size], [3, 3]);
  }));

Deno.test("when every key is cooling the client gets 429 with Retry-After of the earliest end", () =>
  withHarness({}, async (h) => {
    const [k1, k2, k3] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "quota", scope: "minute", retryDelaySeconds: 40 });
    h.fake.failFor(k2!, { kind: "quota", scope: "minute", retryDelaySeconds: 25 });
    h.fake.failFor(k3!, { kind: "quota", scope: "minute", retryDelaySeconds: 50 });
    const first = await h.generate();
    assertEquals(first.status, 429);
    await first.body?.cancel();
    h.clock.now += 5_000;
    const response = await h.generate();
    assertEquals(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert(Math.abs(retryAfter - 20) <= 1, `retry-after ${retryAfter}`);
    const body = await response.json();
    assertEquals(body.error.status, "RESOURCE_EXHAUSTED");
    const info = body.error.details.find((d: { "@type": string }) =>
      d["@type"].endsWith("RetryInfo")
    );
    assertEquals(info.retryDelay, `${retryAfter}s`);
    assertEquals(h.fake.requests.length, 3, "no upstream call while every key rests");
  }));

Deno.test("WAIT_WHEN_EXHAUSTED_MS waits for the first key to free up instead of failing", () =>
  withHarness({ keys: fakeKeys(1), env: { WAIT_WHEN_EXHAUSTED_MS: "60000" } }, async (h) => {
    const [k1] = fakeKeys(1);
    h.fake.failFor(k1!, { kind: "quota", scope: "minute", retryDelaySeconds: 10 }, { times: 1 });
    const first = await h.generate();
    assertEquals(first.status, 429);
    await first.body?.cancel();
    const before = h.clock.now;
    await expectOk(await h.generate());
    assert(h.clock.now - before >= 10_000, "waited on the injected clock");
  }));

Deno.test("a file uploaded through the proxy is used with the key that owns it, 20 of 20 times", () =>
  withHarness({ keys: fakeKeys(5) }, async (h) => {
    const { GoogleGenAI } = await import("@google/genai");
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: h.proxy.url } });
    for (let i = 0; i < 20; i++) {
      h.fake.reset();
      const file = await ai.files.upload({
        file: new Blob([`file number ${i}`], { type: "text/plain" }),
        config: { mimeType: "text/plain" },
      });
      const reply = await ai.models.generateContent({
        model: FLASH,
        contents: [{
          role: "user",
          parts: [{ fileData: { fileUri: file.uri!, mimeType: "text/plain" } }, {
            text: "summarise",
          }],
        }],
      });
      assert(reply.text);
      const keys = new Set(h.fake.requests.map((r) => r.key).filter((k) => k !== null));
      assertEquals(keys.size, 1, `try ${i}: upload and use went to ${[...keys]}`);
    }
  }));

Deno.test("a cached content created through the proxy stays on its key", () =>
  withHarness({ keys: fakeKeys(4) }, async (h) => {
    const { GoogleGenAI } = await import("@google/genai");
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: h.proxy.url } });
    const cache = await ai.caches.create({
      model: FLASH,
      config: { contents: "a long shared context", ttl: "300s" },
    });
    for (let i = 0; i < 8; i++) {
      const reply = await ai.models.generateContent({
        model: FLASH,
        contents: "q",
        config: { cachedContent: cache.name! },
      });
      assert(reply.text);
      await ai.caches.get({ name: cache.name! });
    }
    const keys = new Set(h.fake.requests.map((r) => r.key));
    assertEquals(keys.size, 1);
  }));

Deno.test("a resource whose key is disabled gets a clear error naming it", () =>
  withHarness({ keys: fakeKeys(2) }, async (h) => {
    const { GoogleGenAI } = await import("@google/genai");
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: h.proxy.url } });
    const file = await ai.files.upload({
      file: new Blob(["x"], { type: "text/plain" }),
      config: { mimeType: "text/plain" },
    });
    const owner = h.fake.requests[0]!.key!;
    const id = h.proxy.gateway.registry.keys.find((k) => k.value === owner)!.id;
    await h.proxy.gateway.registry.reload();
    const store = createKvStore(await Deno.openKv(h.kvPath));
    await store.setKeyEnabled(id, false, { reason: "manual" });
    await store.close();
    await h.proxy.gateway.registry.sync();
    const response = await fetch(`${h.proxy.url}/v1beta/${file.name}`, {
      headers: { "x-goog-api-key": TOKEN },
    });
    assertEquals(response.status, 400);
    const body = await response.json();
    assertEquals(body.error.status, "FAILED_PRECONDITION");
    assertStringIncludes(body.error.message, file.name!);
  }));

Deno.test("a mid-stream 429 after bytes were sent reaches the client as upstream sent it", () =>
  withHarness({}, async (h) => {
    h.fake.failAll({ kind: "cut_stream", afterChunks: 1, error: 429 });
    const response = await fetch(
      `${h.proxy.url}/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "go" }] }] }),
      },
    );
    assertEquals(response.status, 200);
    const text = await response.text();
    const record = h.fake.requests.at(-1)!;
    await record.done;
    assertEquals(text, record.responseBody);
    assertStringIncludes(text, "RESOURCE_EXHAUSTED");
    assertEquals(h.fake.requests.length, 1);
  }));

Deno.test("KEY_LIMITS skips a key predicted to pass its per-minute cap before Google says 429", () =>
  withHarness(
    { keys: fakeKeys(2), env: { KEY_LIMITS: JSON.stringify({ [FLASH]: { rpm: 3 } }) } },
    async (h) => {
      for (let i = 0; i < 6; i++) await expectOk(await h.generate());
      const counts = [...countByKey(h.fake).values()];
      assertEquals(counts, [3, 3]);
      const over = await h.generate();
      assertEquals(over.status, 429);
      assert(Number(over.headers.get("retry-after")) <= 60);
      await over.body?.cancel();
      h.clock.now += 60_000;
      await expectOk(await h.generate());
    },
  ));

Deno.test("least_used and weighted strategies pick only usable keys and follow weights", () =>
  withHarness({ keys: fakeKeys(4), env: { ROTATION_STRATEGY: "least_used" } }, async (h) => {
    for (let i = 0; i < 80; i++) await expectOk(await h.generate());
    const counts = [...countByKey(h.fake).values()];
    assertEquals(counts.length, 4);
    for (const n of counts) assert(n >= 14 && n <= 26, `least_used split ${counts}`);
  }));

Deno.test("a disabled key is re-validated and re-enabled once Google accepts it again", () =>
  withHarness({}, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "invalid_key" }, { times: 1 });
    for (let i = 0; i < 3; i++) await expectOk(await h.generate());
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 2);
    const results = await h.proxy.gateway.revalidateDisabled();
    assertEquals(results.map((r) => [r.valid, r.reenabled]), [[true, true]]);
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
    const check = h.fake.requests.at(-1)!;
    assertEquals([check.path, check.key], ["/v1beta/models", k1]);
  }));

Deno.test("a key an operator disabled stays disabled through the background re-validation", () =>
  withHarness({ env: { ADMIN_PASSWORD: "operator-password-1" } }, async (h) => {
    const [first] = h.proxy.gateway.registry.keys;
    const off = await fetch(`${h.proxy.url}/admin/api/keys/${first!.id}`, {
      method: "PATCH",
      headers: {
        authorization: "Bearer operator-password-1",
        "content-type": "application/json",
      },
      body: JSON.stringify({ enabled: false }),
    });
    assertEquals(off.status, 200);
    await off.body?.cancel();
    assertEquals(await h.proxy.gateway.revalidateDisabled(), []);
    assertEquals(h.proxy.gateway.registry.keyById(first!.id)?.record.enabled, false);
  }));

Deno.test("request and token counters per key and model land in the store as atomic sums", () =>
  withHarness({}, async (h) => {
    let tokens = 0;
    for (let i = 0; i < 9; i++) {
      const body = await (await h.generate(i % 3 ? FLASH : PRO, `word `.repeat(i + 1))).json();
      tokens += body.usageMetadata.totalTokenCount;
    }
    await h.proxy.gateway.settle();
    await h.proxy.gateway.poolSync.settled();
    const store = createKvStore(await Deno.openKv(h.kvPath), { now: () => h.clock.now });
    try {
      const totals = await store.readKeyUsage(h.clock.now);
      assertEquals(totals.reduce((n, t) => n + t.minute, 0), 9);
      assertEquals(totals.filter((t) => t.model === PRO).reduce((n, t) => n + t.day, 0), 3);
      assertEquals(totals.reduce((n, t) => n + t.dayTokens, 0), tokens);
      const states = await store.listKeyStates();
      assertEquals(states.length, 3);
      assert(states.every((s) => s.lastUsedAt === h.clock.now));
    } finally {
      await store.close();
    }
  }));

Deno.test("a key that keeps failing with 5xx while others succeed is rested", () =>
  withHarness({ keys: fakeKeys(2) }, async (h) => {
    const [k1] = fakeKeys(2);
    h.fake.failFor(k1!, { kind: "status", code: 500 });
    for (let i = 0; i < 12; i++) await expectOk(await h.generate());
    const tries = h.fake.requests.filter((r) => r.key === k1).length;
    assertEquals(tries, 5, "rested after five failures in a row");
    const [cooldown] = h.proxy.gateway.pool.cooldowns();
    assertStringIncludes(cooldown?.reason ?? "", "UNHEALTHY");
  }));
