/**
 * Guessing the admin password or the metrics token, over real sockets: Bearer calls of the admin
 * API and the login form share one count per client address (and one in total), in the store, so
 * a lock-out holds across processes; while locked, even the right secret gets 429 with
 * `Retry-After`. The proxy's own requests never touch the throttle.
 * @module
 */
import { assert, assertEquals } from "./support/assert.ts";
import { ensureBuilt } from "./support/browser.ts";
import {
  fakeKeys,
  generate,
  type Harness,
  SECRET,
  startChildProxy,
  startHarness,
  TOKEN,
} from "./support/harness.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { createApp } from "../core/app.ts";
import { parseConfig } from "../core/config/config.ts";
import { createMemoryStore } from "../core/store/memory_store.ts";
import type { Store } from "../core/store/mod.ts";

const ADMIN = "throttle-test-admin-password";
const METRICS = "throttle-test-metrics-token";

async function withConsole(
  fn: (h: Harness) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  await ensureBuilt();
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, METRICS_TOKEN: METRICS, ...env } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** `GET <path>` with a bearer; the body is read (JSON when it is). */
async function bearer(base: string, path: string, secret: string, extra: HeadersInit = {}) {
  const response = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${secret}`, ...Object.fromEntries(new Headers(extra)) },
  });
  const text = await response.text();
  const body = response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body };
}

/** Posts the login form. */
async function loginForm(base: string, password: string, headers: HeadersInit = {}) {
  const response = await fetch(`${base}/admin/login`, {
    method: "POST",
    headers,
    body: new URLSearchParams({ password }),
    redirect: "manual",
  });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get("retry-after"), text };
}

Deno.test("Bearer guesses on the admin API lock the login form; the right password gets 429", () =>
  withConsole(async (h) => {
    const base = h.proxy.url;
    for (let i = 0; i < 5; i++) {
      assertEquals((await bearer(base, "/admin/api/keys", `guess-${i}`)).status, 401);
    }
    const locked = await bearer(base, "/admin/api/keys", ADMIN);
    assertEquals([locked.status, locked.retryAfter], [429, "60"]);
    assertEquals(locked.body.error.status, "RESOURCE_EXHAUSTED");
    assertEquals(locked.body.error.details, [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "ADMIN_AUTH_THROTTLED",
        domain: "gemini-proxy",
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "60s" },
    ]);
    const form = await loginForm(base, ADMIN);
    assertEquals([form.status, form.retryAfter], [429, "60"]);
    assert(form.text.includes("Too many attempts"));

    h.clock.now += 60_000;
    assertEquals((await bearer(base, "/admin/api/keys", ADMIN)).status, 200);
  }));

Deno.test("login form failures lock Bearer calls, whatever X-Forwarded-For says", () =>
  withConsole(async (h) => {
    const base = h.proxy.url;
    for (let i = 0; i < 5; i++) assertEquals((await loginForm(base, `guess-${i}`)).status, 401);
    const spoofed = await bearer(base, "/admin/api/keys", ADMIN, {
      "x-forwarded-for": "198.51.100.77",
      "x-real-ip": "198.51.100.78",
      forwarded: "for=198.51.100.79",
    });
    assertEquals([spoofed.status, spoofed.retryAfter], [429, "60"]);
  }));

Deno.test("behind a trusted proxy (TRUST_PROXY=1) each forwarded client has its own count, as in the logs", () =>
  withConsole(async (h) => {
    const base = h.proxy.url;
    // The proxy in front appends the address it saw: the right-most entry. Anything to its left
    // came from the client, so a guesser who writes one there is still counted as 198.51.100.1.
    const a = { "x-forwarded-for": "198.51.100.1" };
    const forged = { "x-forwarded-for": "203.0.113.50, 198.51.100.1" };
    const b = { "x-forwarded-for": "198.51.100.2" };
    for (let i = 0; i < 3; i++) {
      assertEquals((await bearer(base, "/admin/api/keys", `guess-${i}`, a)).status, 401);
    }
    for (let i = 3; i < 5; i++) {
      assertEquals((await loginForm(base, `guess-${i}`, forged)).status, 401);
    }
    const lockedA = await bearer(base, "/admin/api/keys", ADMIN, a);
    assertEquals([lockedA.status, lockedA.retryAfter], [429, "60"]);
    assertEquals((await loginForm(base, ADMIN, forged)).status, 429, "A's forged left entry");
    assertEquals((await bearer(base, "/admin/api/keys", ADMIN, b)).status, 200, "B is not locked");
    assertEquals((await loginForm(base, ADMIN, b)).status, 303, "B logs in");
    // The same function names the client of proxied requests.
    await (await fetch(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN, "content-type": "application/json", ...b },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
    })).arrayBuffer();
    await h.proxy.gateway.settle();
    const logs = await bearer(base, "/admin/api/logs?limit=1&reveal=1", ADMIN, b);
    assertEquals(logs.body.logs[0].client, "198.51.100.2");
  }, { TRUST_PROXY: "1" }));

Deno.test("without TRUST_PROXY a forwarded address is ignored: different headers share one count", () =>
  withConsole(async (h) => {
    const base = h.proxy.url;
    for (let i = 0; i < 5; i++) {
      const headers = { "x-forwarded-for": `198.51.100.${i + 1}` };
      assertEquals((await bearer(base, "/admin/api/keys", `guess-${i}`, headers)).status, 401);
    }
    const other = await bearer(base, "/admin/api/keys", ADMIN, {
      "x-forwarded-for": "198.51.100.200",
    });
    assertEquals([other.status, other.retryAfter], [429, "60"]);
    assertEquals((await loginForm(base, ADMIN, { "x-forwarded-for": "192.0.2.1" })).status, 429);
  }));

Deno.test("200 concurrent Bearer guesses get 5 answers, then the right password gets 429", () =>
  withConsole(async (h) => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => bearer(h.proxy.url, "/admin/api/keys", `guess-${i}`)),
    );
    const statuses = answers.map((a) => a.status);
    assertEquals(statuses.filter((s) => s === 401).length, 5, "no more guesses compared");
    assertEquals(statuses.filter((s) => s === 429).length, 195);
    for (const a of answers.filter((a) => a.status === 429)) assert(Number(a.retryAfter) >= 1);
    const right = await bearer(h.proxy.url, "/admin/api/keys", ADMIN);
    assertEquals([right.status, right.retryAfter], [429, "60"]);
  }));

Deno.test("a logged-in console keeps working while Bearer guesses keep the address locked", () =>
  withConsole(async (h) => {
    const base = h.proxy.url;
    const login = await fetch(`${base}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ password: ADMIN }),
      redirect: "manual",
    });
    assertEquals(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    for (let i = 0; i < 6; i++) await bearer(base, "/admin/api/keys", `guess-${i}`);
    assertEquals((await bearer(base, "/admin/api/keys", ADMIN)).status, 429);
    const page = await fetch(`${base}/admin/keys`, { headers: { cookie } });
    assertEquals(page.status, 200, "pages read the API in process, past the throttle");
    assert((await page.text()).includes("AIza..."));
    const api = await fetch(`${base}/admin/api/keys`, { headers: { cookie } });
    assertEquals(api.status, 200, "the session cookie is no guess");
    await api.body?.cancel();
  }));

Deno.test("METRICS_TOKEN guesses lock /metrics with Retry-After, apart from the admin password", () =>
  withConsole(async (h) => {
    const base = h.proxy.url;
    assertEquals(await fetch(`${base}/metrics`).then((r) => r.text().then(() => r.status)), 401);
    for (let i = 0; i < 5; i++) {
      assertEquals((await bearer(base, "/metrics", `g-${i}`)).status, 401);
    }
    const locked = await bearer(base, "/metrics", METRICS);
    assertEquals([locked.status, locked.retryAfter], [429, "60"]);
    assertEquals(locked.body.error.details[0].reason, "METRICS_AUTH_THROTTLED");
    assertEquals((await bearer(base, "/admin/api/keys", ADMIN)).status, 200, "admin unaffected");
    h.clock.now += 60_000;
    const open = await bearer(base, "/metrics", METRICS);
    assertEquals(open.status, 200);
    assert(String(open.body).includes("gemini_proxy_requests_total"));
  }));

Deno.test("wrong admin passwords in one process lock another process on the same KV file", async () => {
  await ensureBuilt();
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: `${dir}/shared.kv`,
    GEMINI_API_KEYS: fakeKeys(2).join(","),
    PROXY_TOKENS: TOKEN,
    ADMIN_PASSWORD: ADMIN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  try {
    assertEquals((await bearer(b.url, "/admin/api/keys", ADMIN)).status, 200, "B opens first");
    for (let i = 0; i < 3; i++) {
      assertEquals((await bearer(a.url, "/admin/api/keys", `guess-${i}`)).status, 401);
    }
    for (let i = 3; i < 5; i++) assertEquals((await loginForm(a.url, `guess-${i}`)).status, 401);
    const bearerOnB = await bearer(b.url, "/admin/api/keys", ADMIN);
    assertEquals(bearerOnB.status, 429);
    assertEquals(bearerOnB.body.error.details[0].reason, "ADMIN_AUTH_THROTTLED");
    const retryAfter = Number(bearerOnB.retryAfter);
    assert(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${bearerOnB.retryAfter}`);
    const formOnB = await loginForm(b.url, ADMIN);
    assertEquals(formOnB.status, 429);
    assert(Number(formOnB.retryAfter) >= 1 && Number(formOnB.retryAfter) <= 60);
    assertEquals((await loginForm(a.url, ADMIN)).status, 429, "and A itself");
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proxy requests never read or write the sign-in throttle", async () => {
  const fake = await startFakeUpstream();
  const calls: string[] = [];
  const base = createMemoryStore();
  const store: Store = new Proxy(base, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (String(name).includes("AuthThrottle")) calls.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const config = parseConfig({
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: fakeKeys(2).join(","),
    PROXY_TOKENS: TOKEN,
    SECRET_KEY: SECRET,
    ADMIN_PASSWORD: ADMIN,
    STORE: "memory",
  });
  const gateway = await createApp({ config, store, logSink: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gateway.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    for (const token of [TOKEN, "gp-not-a-token", TOKEN]) {
      const response = await fetch(`${url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
      });
      await response.body?.cancel();
    }
    await (await generate(url)).body?.cancel();
    assertEquals(calls, []);
    assertEquals((await bearer(url, "/admin/api/keys", ADMIN)).status, 200);
    assert(calls.includes("readAuthThrottle"), "admin authentication does consult it");
  } finally {
    await server.shutdown();
    await gateway.sync(true);
    await fake.close();
  }
});
