/**
 * Proxy tokens end to end in one process: rpm limits exact under concurrency, daily token limits
 * reserved per request and settled from usage (streams included), secrets never stored in clear,
 * model allow-lists, expiry and the management API. Real sockets, the fake upstream, the
 * harness's injected clock. Two processes sharing a KV file: `tokens_two_processes_test.ts`.
 */
import { sha256Hex } from "../core/secrets/mod.ts";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./support/assert.ts";
import { type Harness, startHarness, TOKEN } from "./support/harness.ts";
import { countFakeTokens } from "./support/fake_upstream/mod.ts";
import {
  ADMIN,
  admin,
  assertRateLimited,
  call,
  createToken,
  errorOf,
  FLASH,
  isGenerate,
  statusOf,
} from "./support/token_api.ts";

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
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

Deno.test("a token named in any script is logged with the rest of its batch: served == logged", () =>
  withHarness(async (h) => {
    // One record with a character past U+00FF makes V8 store the whole page of records it is
    // packed into at two bytes a character; Deno KV refused such a page ("Value too large") when
    // pages were sized as if only that record were wide, and the batch stayed queued for good.
    const name = "团队 🚀 Команда";
    const wide = await createToken(h.proxy.url, { name });
    const served = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          call(h.proxy.url, i === 100 ? wide.secret : TOKEN, { text: `hi ${i}` }).then(statusOf),
      ),
    );
    assertEquals(served.filter((s) => s === 200).length, 200);
    await h.proxy.gateway.settle();
    const response = await fetch(`${h.proxy.url}/admin/api/logs?limit=500`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const { logs } = await response.json() as { logs: { tokenName: string | null }[] };
    assertEquals(logs.length, 200);
    assertEquals(logs.filter((r) => r.tokenName === name).length, 1);
    const health = await (await fetch(`${h.proxy.url}/healthz`)).json();
    assertEquals([health.logs.written, health.logs.failing], [200, false]);
  }));
