/**
 * Proxy tokens end to end: limits exact under concurrency (one process and two sharing a KV
 * file), daily token limits reserved per request and settled from usage (streams included),
 * revocation reaching every process within a second, secrets never stored in clear, model
 * allow-lists, expiry and the management API. Real sockets, the fake upstream, the harness's injected clock.
 */
import { createKvStore } from "../adapters/deno/kv_store.ts";
import { sha256Hex } from "../core/secrets.ts";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./assert.ts";
import { fakeKeys, type Harness, startChildProxy, startHarness, TOKEN } from "./harness.ts";
import { countFakeTokens, startFakeUpstream } from "./fake_upstream.ts";

const ADMIN = "admin-password-for-tests";
const FLASH = "gemini-2.5-flash";
const auth = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const isGenerate = (path: string) => /:(stream)?[gG]enerateContent$/.test(path);

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

interface Created {
  id: string;
  secret: string;
  token: Record<string, unknown>;
}

async function createToken(base: string, body: Record<string, unknown>): Promise<Created> {
  const response = await fetch(`${base}/admin/api/tokens`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assertEquals(response.status, 201, JSON.stringify(json));
  return { id: json.token.id, secret: json.secret, token: json.token };
}

function admin(base: string, path: string, method = "GET", body?: unknown): Promise<Response> {
  return fetch(`${base}/admin/api/tokens${path}`, {
    method,
    headers: auth,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** generateContent (or its SSE stream) with a given proxy token. */
function call(
  base: string,
  secret: string,
  options: { model?: string; text?: string; stream?: boolean; maxOutputTokens?: number } = {},
): Promise<Response> {
  const method = options.stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const body: Record<string, unknown> = {
    contents: [{ role: "user", parts: [{ text: options.text ?? "hi" }] }],
  };
  if (options.maxOutputTokens) {
    body.generationConfig = { maxOutputTokens: options.maxOutputTokens };
  }
  return fetch(`${base}/v1beta/models/${options.model ?? FLASH}:${method}`, {
    method: "POST",
    headers: { "x-goog-api-key": secret, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function statusOf(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

async function errorOf(response: Response): Promise<{
  code: number;
  status: string;
  message: string;
  details: { "@type": string; [k: string]: unknown }[];
}> {
  return (await response.json()).error;
}

/** Checks 90 refusals: 429 RESOURCE_EXHAUSTED with Retry-After and a matching RetryInfo. */
async function assertRateLimited(responses: Response[], expectedRetryAfter?: number) {
  for (const response of responses) {
    assertEquals(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    if (expectedRetryAfter !== undefined) assertEquals(retryAfter, expectedRetryAfter);
    const error = await errorOf(response);
    assertEquals(error.status, "RESOURCE_EXHAUSTED");
    const info = error.details.find((d) => d["@type"].endsWith("RetryInfo"));
    assertEquals(info?.retryDelay, `${retryAfter}s`);
    assertStringIncludes(error.message, "10 requests per minute");
  }
}

/** Waits, when the wall clock is close to the end of a minute, for the next one to begin. */
async function awayFromMinuteEnd(margin = 10_000): Promise<void> {
  const left = 60_000 - Date.now() % 60_000;
  if (left < margin) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

Deno.test("100 concurrent requests with a token limited to 10 rpm: exactly 10 reach upstream", () =>
  withHarness(async (h) => {
    const { secret } = await createToken(h.proxy.url, { name: "app", limits: { rpm: 10 } });
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => call(h.proxy.url, secret)),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status !== 200);
    await Promise.all(ok.map((r) => r.body?.cancel()));
    assertEquals([ok.length, refused.length], [10, 90]);
    assertEquals(h.fake.requests.filter((r) => isGenerate(r.path)).length, 10);
    // The harness clock sits at the start of a minute: the window ends in 60 s.
    await assertRateLimited(refused, 60);
    h.clock.now += 60_000;
    assertEquals(await statusOf(await call(h.proxy.url, secret)), 200, "the next minute serves");
    assertEquals(await statusOf(await h.generate()), 200, "an unlimited token is unaffected");
  }));

Deno.test("100 concurrent requests over two proxy processes on one KV file: exactly 10 pass", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/shared.kv`;
  const secret = "gp-TEST-shared-limited-token-0001";
  const seed = createKvStore(await Deno.openKv(kvPath));
  await seed.addToken({
    id: "t_shared",
    name: "shared",
    hash: await sha256Hex(secret),
    masked: "gp-T...0001",
    enabled: true,
    source: "admin",
    createdAt: Date.now(),
    limits: { rpm: 10 },
  });
  await seed.close();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: kvPath,
    GEMINI_API_KEYS: fakeKeys(3).join(","),
    PROXY_TOKENS: TOKEN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  try {
    // Children use the real clock: keep the burst inside one clock minute.
    await awayFromMinuteEnd();
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call(i % 2 ? a.url : b.url, secret)),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status !== 200);
    await Promise.all(ok.map((r) => r.body?.cancel()));
    assertEquals([ok.length, refused.length], [10, 90]);
    assertEquals(fake.requests.filter((r) => isGenerate(r.path)).length, 10);
    await assertRateLimited(refused);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a token limited to 1,000 tokens a day admits requests while their estimates fit", () =>
  withHarness(async (h) => {
    const { id, secret } = await createToken(h.proxy.url, { name: "tpd", limits: { tpd: 1000 } });
    const text = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    // The fake counts words: 200 prompt tokens, and the reply "Echo: <text>" is 201. The proxy
    // reserves 889 bytes / 4 = 223 for the prompt, plus maxOutputTokens.
    const perCall = countFakeTokens(text) + countFakeTokens(`Echo: ${text}`);
    assertEquals(perCall, 401);
    const estimate = 223 + 250;

    for (let i = 0; i < 2; i++) {
      const response = await call(h.proxy.url, secret, { text, maxOutputTokens: 250 });
      assertEquals(response.status, 200);
      assertEquals((await response.json()).usageMetadata.totalTokenCount, perCall);
    }
    // 802 of 1000 used: 198 left, less than this request may use.
    const upstreamBefore = h.fake.requests.length;
    const refused = await call(h.proxy.url, secret, { text, maxOutputTokens: 250, stream: true });
    assertEquals(refused.status, 429);
    const midnight = Date.parse("2026-01-16T08:00:00Z");
    const retryAfter = Math.ceil((midnight - h.clock.now) / 1000);
    assertEquals(refused.headers.get("retry-after"), String(retryAfter));
    const error = await errorOf(refused);
    assertEquals(error.status, "RESOURCE_EXHAUSTED");
    assertEquals(
      error.message,
      `Proxy token "tpd" reached its limit of 1000 tokens per day (this request may use up to ${estimate} tokens): retry in ${retryAfter}s`,
    );
    assertEquals(
      error.details.find((d) => d["@type"].endsWith("RetryInfo"))?.retryDelay,
      `${retryAfter}s`,
    );
    assertEquals(h.fake.requests.length, upstreamBefore, "refused before any upstream call");

    // A request that fits is served. 150 one-letter words are estimated at 75 tokens but count
    // 150: with 100 more of output the response takes the day past 1000, and is served in full.
    const small = call(h.proxy.url, secret, { text: "one more", maxOutputTokens: 100 });
    assertEquals(await statusOf(await small), 200);
    const letters = Array.from({ length: 150 }, () => "a").join(" ");
    const stream = await call(h.proxy.url, secret, {
      text: letters,
      maxOutputTokens: 100,
      stream: true,
    });
    assertEquals(stream.status, 200);
    const events = (await stream.text()).split("\n").filter((l) => l.startsWith("data: "));
    assert(events.length > 1, "several chunks, each with cumulative usageMetadata");
    assertEquals(JSON.parse(events.at(-1)!.slice(6)).usageMetadata.totalTokenCount, 250);
    assertEquals(await statusOf(await call(h.proxy.url, secret, { text: "x" })), 429);

    await h.proxy.gateway.sync();
    const usage = await (await admin(h.proxy.url, `/${id}/usage`)).json();
    const total = 2 * perCall + 5 + 250;
    assertEquals(usage.today, { day: "2026-01-15", requests: 4, tokens: total });
    assertEquals(usage.month.tokens, total);

    h.clock.now = midnight + 1000;
    assertEquals(await statusOf(await call(h.proxy.url, secret)), 200, "a new Pacific day");
  }));

Deno.test("a revoked token is refused by both of two processes within one second", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: `${dir}/shared.kv`,
    GEMINI_API_KEYS: fakeKeys(2).join(","),
    ADMIN_PASSWORD: ADMIN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  /** Polls both processes until `expected` holds for each; returns the time it took, ms. */
  async function until(secret: string, expected: (status: number) => boolean): Promise<number> {
    const started = performance.now();
    const pending = new Set([a.url, b.url]);
    while (pending.size > 0) {
      for (const url of [...pending]) {
        if (expected(await statusOf(await call(url, secret)))) pending.delete(url);
      }
      if (performance.now() - started > 5000) throw new Error(`${[...pending]} never switched`);
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return performance.now() - started;
  }
  const refused = (status: number) => status === 401 || status === 403;
  try {
    const { id, secret } = await createToken(a.url, { name: "revocable" });
    await until(secret, (s) => s === 200);

    let started = performance.now();
    assertEquals(await statusOf(await admin(a.url, `/${id}`, "PATCH", { enabled: false })), 200);
    await until(secret, (s) => s === 403);
    const disabledMs = performance.now() - started;
    assert(disabledMs < 1000, `disabling took ${disabledMs} ms`);

    await admin(a.url, `/${id}`, "PATCH", { enabled: true }).then(statusOf);
    await until(secret, (s) => s === 200);
    started = performance.now();
    const rotated = await (await admin(a.url, `/${id}/rotate`, "POST")).json();
    await until(secret, refused);
    const rotatedMs = performance.now() - started;
    assert(rotatedMs < 1000, `rotation took ${rotatedMs} ms`);
    await until(rotated.secret, (s) => s === 200);

    started = performance.now();
    assertEquals(await statusOf(await admin(b.url, `/${id}`, "DELETE")), 200);
    await until(rotated.secret, (s) => s === 401);
    const deletedMs = performance.now() - started;
    assert(deletedMs < 1000, `deletion took ${deletedMs} ms`);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the store never holds a proxy token in clear, nor does the admin API return one", () =>
  withHarness(async (h) => {
    const first = await createToken(h.proxy.url, { name: "one", limits: { rpm: 50, tpd: 10_000 } });
    const second = await createToken(h.proxy.url, { name: "two" });
    const rotated = await (await admin(h.proxy.url, `/${second.id}/rotate`, "POST")).json();
    const secrets = [TOKEN, first.secret, second.secret, rotated.secret];
    for (const secret of [first.secret, rotated.secret, TOKEN]) {
      assertEquals(await statusOf(await call(h.proxy.url, secret, { stream: true })), 200);
    }
    await h.proxy.gateway.sync();

    const listed = await (await admin(h.proxy.url, "")).text();
    for (const secret of secrets) {
      assertNotIncludes(listed, secret);
      assertNotIncludes(listed, await sha256Hex(secret));
    }
    assertNotIncludes(listed, '"hash"');

    const kv = await Deno.openKv(h.kvPath);
    try {
      let entries = 0;
      let tokenRecords = 0;
      for await (const entry of kv.list({ prefix: [] })) {
        entries++;
        if (entry.key[0] === "tokens") tokenRecords++;
        const raw = JSON.stringify(
          [entry.key, entry.value],
          (_k, v) =>
            typeof v === "bigint"
              ? v.toString()
              : v instanceof Uint8Array
              ? new TextDecoder().decode(v)
              : v,
        );
        for (const secret of secrets) {
          assertNotIncludes(raw, secret, `entry ${JSON.stringify(entry.key)}`);
          assertNotIncludes(raw, secret.slice(3), `entry ${JSON.stringify(entry.key)}`);
        }
      }
      assertEquals(tokenRecords, 3);
      assert(entries > 10, `read ${entries} entries`);
    } finally {
      kv.close();
    }
  }));

Deno.test("a model allow-list admits matching models and refuses others with PERMISSION_DENIED", () =>
  withHarness(async (h) => {
    const { secret } = await createToken(h.proxy.url, {
      name: "flash only",
      models: ["gemini-2.5-*"],
    });
    assertEquals(await statusOf(await call(h.proxy.url, secret, { model: FLASH })), 200);
    assertEquals(await statusOf(await call(h.proxy.url, secret, { model: "gemini-2.5-pro" })), 200);
    const before = h.fake.requests.length;

    const denied = await call(h.proxy.url, secret, { model: "gemini-2.0-flash" });
    assertEquals(denied.status, 403);
    const error = await errorOf(denied);
    assertEquals(error.status, "PERMISSION_DENIED");
    assertEquals(error.message, 'Proxy token "flash only" may not use model "gemini-2.0-flash"');
    assertEquals(
      error.details.find((d) => d["@type"].endsWith("ErrorInfo"))?.reason,
      "PROXY_TOKEN_MODEL_NOT_ALLOWED",
    );

    const openai = (model: string) =>
      fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      });
    const openaiDenied = await openai("gemini-2.0-flash");
    assertEquals(openaiDenied.status, 403);
    assertStringIncludes((await errorOf(openaiDenied)).message, '"gemini-2.0-flash"');
    assertEquals(h.fake.requests.length, before, "refused before any upstream call");
    assertEquals(await statusOf(await openai("models/gemini-2.5-flash")), 200);
    const list = await fetch(`${h.proxy.url}/v1beta/models`, {
      headers: { "x-goog-api-key": secret },
    });
    assertEquals(await statusOf(list), 200, "calls naming no model are not restricted");
  }));

Deno.test("an expired token is refused with PERMISSION_DENIED before any upstream call", () =>
  withHarness(async (h) => {
    const expiresAt = new Date(h.clock.now + 60_000).toISOString();
    const { id, secret } = await createToken(h.proxy.url, { name: "short lived", expiresAt });
    assertEquals(await statusOf(await call(h.proxy.url, secret)), 200);
    h.clock.now += 61_000;
    const before = h.fake.requests.length;
    const response = await call(h.proxy.url, secret);
    assertEquals(response.status, 403);
    const error = await errorOf(response);
    assertEquals([error.status, error.message], [
      "PERMISSION_DENIED",
      'Proxy token "short lived" has expired',
    ]);
    assertEquals(h.fake.requests.length, before);
    assertEquals((await (await admin(h.proxy.url, `/${id}`)).json()).status, "expired");

    const extended = await admin(h.proxy.url, `/${id}`, "PATCH", { expiresAt: null });
    assertEquals((await extended.json()).status, "enabled");
    assertEquals(await statusOf(await call(h.proxy.url, secret)), 200);
  }));

Deno.test("tokens API creates, lists with usage, updates, rotates and deletes tokens", () =>
  withHarness(async (h) => {
    const base = h.proxy.url;
    h.clock.now += 1; // lists sort by creation time; a tie with the env token would sort by random id
    const created = await createToken(base, {
      name: "ci bot",
      limits: { rpm: 5, rpd: 100 },
      models: ["gemini-2.5-*", "gemini-2.5-*"],
    });
    assert(/^gp-[A-Za-z0-9_-]{32}$/.test(created.secret), created.secret);
    assertEquals(
      created.token.masked,
      `${created.secret.slice(0, 4)}...${created.secret.slice(-4)}`,
    );
    assertEquals([created.token.status, created.token.models], ["enabled", ["gemini-2.5-*"]]);
    assertEquals(created.token.hash, undefined);

    assertEquals(await statusOf(await call(base, created.secret)), 200);
    await h.proxy.gateway.sync();
    const { tokens } = await (await admin(base, "")).json();
    assertEquals(tokens.map((t: { name: string }) => t.name), ["env token 1", "ci bot"]);
    const env = tokens[0];
    assertEquals([env.source, env.limits, env.masked], ["env", undefined, "gp-T...0001"]);
    const bot = tokens[1];
    assertEquals(bot.lastUsedAt, h.clock.now);
    assertEquals(bot.usage.today, { day: "2026-01-15", requests: 1, tokens: 3 });
    assertEquals(bot.usage.minute, { requests: 1 });

    const patched = await (await admin(base, `/${created.id}`, "PATCH", {
      name: "ci bot 2",
      limits: { rpd: null, tpd: 5000 },
      models: null,
    })).json();
    assertEquals([patched.name, patched.limits, patched.models], [
      "ci bot 2",
      { rpm: 5, tpd: 5000 },
      undefined,
    ]);
    const cleared = await (await admin(base, `/${created.id}`, "PATCH", { limits: null })).json();
    assertEquals(cleared.limits, undefined);

    const bad = [
      [{ limits: { rpm: 0 } }, 'Invalid "limits.rpm": 0 is not a positive number'],
      [{ limits: { rpm: 1.5 } }, 'Invalid "limits.rpm": 1.5 is not a whole number'],
      [{ models: ["gemini 2.5"] }, '"gemini 2.5" is not a model pattern'],
      [{ expiresAt: "tomorrow" }, '"tomorrow" is neither epoch milliseconds nor an ISO 8601 time'],
      [{ expiresAt: "2020-01-01T00:00:00Z" }, 'Expiry "2020-01-01T00:00:00.000Z" is in the past'],
      [{ colour: "red" }, '"colour"'],
    ] as const;
    for (const [body, message] of bad) {
      const response = await admin(base, `/${created.id}`, "PATCH", body);
      assertEquals(response.status, 400, JSON.stringify(body));
      const error = await errorOf(response);
      assertEquals(error.status, "INVALID_ARGUMENT");
      assertStringIncludes(error.message, message);
    }
    const missing = await admin(base, "/t_nope", "PATCH", { name: "x" });
    assertEquals(missing.status, 404);
    assertEquals((await errorOf(missing)).message, 'Token "t_nope" not found');

    const rotated = await (await admin(base, `/${created.id}/rotate`, "POST")).json();
    assert(rotated.secret !== created.secret && rotated.secret.startsWith("gp-"));
    assertEquals(rotated.token.id, created.id);
    assertEquals(await statusOf(await call(base, created.secret)), 401);
    assertEquals(await statusOf(await call(base, rotated.secret)), 200);

    assertEquals(await statusOf(await admin(base, `/${created.id}`, "DELETE")), 200);
    assertEquals(await statusOf(await call(base, rotated.secret)), 401);
    assertEquals(await statusOf(await admin(base, `/${created.id}`, "DELETE")), 404);
    const unauthenticated = await fetch(`${base}/admin/api/tokens`);
    assertEquals(await statusOf(unauthenticated), 401);
  }));
