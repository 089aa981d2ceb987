/**
 * The admin console over HTTP, without a browser: secrets never reach a page or an answer,
 * sessions and CSRF protect every state change, logins are throttled, and console settings drive
 * the proxy.
 * @module
 */
import { SESSION_TTL_MS } from "../core/admin/session.ts";
import { assert, assertEquals, assertNotIncludes } from "./support/assert.ts";
import { ensureBuilt } from "./support/browser.ts";
import { fakeKeys, type Harness, startHarness, TOKEN } from "./support/harness.ts";

const ADMIN = "console-test-admin-password";
const PAGES = [
  "/admin",
  "/admin/keys",
  "/admin/tokens",
  "/admin/logs",
  "/admin/settings",
  "/admin/playground",
];

async function withConsole(fn: (h: Harness) => Promise<void>, env: Record<string, string> = {}) {
  await ensureBuilt();
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, ...env } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Logs in; returns the cookie header and the page's CSRF token. */
async function login(h: Harness): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const response = await fetch(`${h.proxy.url}/admin/login`, {
    method: "POST",
    body: new URLSearchParams({ password: ADMIN, next: "/admin/keys" }),
    redirect: "manual",
  });
  assertEquals(response.status, 303);
  assertEquals(response.headers.get("location"), "/admin/keys");
  const setCookie = response.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0]!;
  const page = await (await fetch(`${h.proxy.url}/admin/settings`, { headers: { cookie } })).text();
  const csrf = page.match(/name="csrf-token" content="([^"]+)"/)?.[1] ?? "";
  assert(csrf.length >= 20, "the page carries a CSRF token");
  return { cookie, csrf, setCookie };
}

Deno.test("console pages, island props and admin API answers never hold a Gemini key or token secret", async () => {
  await withConsole(async (h) => {
    const { cookie, csrf } = await login(h);
    const created = await fetch(`${h.proxy.url}/admin/api/tokens`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
      body: JSON.stringify({ name: "grep me", limits: { rpm: 10 } }),
    });
    assertEquals(created.status, 201);
    const { secret, token } = await created.json();
    const imported = "AIzaFAKE-TEST-console-import-key-000001";
    const added = await fetch(`${h.proxy.url}/admin/api/keys`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
      body: JSON.stringify({ keys: [imported] }),
    });
    assertEquals(added.status, 201);
    for (const t of [TOKEN, secret]) {
      const used = await fetch(`${h.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": t, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: `key ${imported} in a prompt` }] }] }),
      });
      assertEquals(used.status, 200);
      await used.body?.cancel();
    }
    await h.proxy.gateway.settle();
    const logs = await (await fetch(`${h.proxy.url}/admin/api/logs`, { headers: { cookie } }))
      .json();
    const paths = [
      ...PAGES,
      `/admin/logs/${logs.logs[0].id}`,
      "/admin/api/keys",
      "/admin/api/tokens",
      `/admin/api/tokens/${token.id}`,
      "/admin/api/logs",
      `/admin/api/logs/${logs.logs[0].id}`,
      "/admin/api/stats?group=tokenId",
      "/admin/api/settings",
    ];
    const detail = await fetch(`${h.proxy.url}/admin/logs/${logs.logs[0].id}`, {
      headers: { cookie },
    });
    assert((await detail.text()).includes("Request body"), "bodies are logged and shown");
    const secrets = [...fakeKeys(3), imported, TOKEN, secret];
    for (const path of paths) {
      const response = await fetch(`${h.proxy.url}${path}`, { headers: { cookie } });
      assertEquals(response.status, 200, path);
      const text = await response.text();
      for (const s of secrets) assertNotIncludes(text, s, `${path} shows a secret`);
    }
  }, { LOG_BODIES: "all" });
});

Deno.test("a state change needs a session and its CSRF token; Bearer calls need no CSRF", async () => {
  await withConsole(async (h) => {
    const { cookie, csrf } = await login(h);
    const api = `${h.proxy.url}/admin/api/tokens`;
    const body = JSON.stringify({ name: "csrf" });
    const json = { "content-type": "application/json" };
    const noSession = await fetch(api, { method: "POST", headers: json, body });
    assertEquals(noSession.status, 401);
    await noSession.body?.cancel();
    const noToken = await fetch(api, { method: "POST", headers: { ...json, cookie }, body });
    assertEquals(noToken.status, 403);
    assertEquals((await noToken.json()).error.message, "Missing or invalid CSRF token");
    const wrongToken = await fetch(api, {
      method: "POST",
      headers: { ...json, cookie, "x-csrf-token": csrf.slice(1) + "x" },
      body,
    });
    assertEquals(wrongToken.status, 403);
    await wrongToken.body?.cancel();
    const ok = await fetch(api, {
      method: "POST",
      headers: { ...json, cookie, "x-csrf-token": csrf },
      body,
    });
    assertEquals(ok.status, 201);
    await ok.body?.cancel();
    const bearer = await fetch(api, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${ADMIN}` },
      body,
    });
    assertEquals(bearer.status, 201);
    await bearer.body?.cancel();

    const form = await fetch(`${h.proxy.url}/admin/settings`, {
      method: "POST",
      headers: { cookie },
      body: new URLSearchParams({ maxAttempts: "2" }),
      redirect: "manual",
    });
    assertEquals(form.status, 403);
    await form.body?.cancel();
    const logout = await fetch(`${h.proxy.url}/admin/logout`, {
      method: "POST",
      body: new URLSearchParams({}),
      redirect: "manual",
    });
    assertEquals(logout.status, 401);
    await logout.body?.cancel();
  });
});

Deno.test("the session cookie is HttpOnly, SameSite=Strict, scoped, expiring, and Secure off localhost", async () => {
  await withConsole(async (h) => {
    const { setCookie } = await login(h);
    const attributes = setCookie.split("; ").slice(1);
    assertEquals(attributes.sort(), [
      "HttpOnly",
      `Max-Age=${SESSION_TTL_MS / 1000}`,
      "Path=/admin",
      "SameSite=Strict",
    ]);
    const remote = await h.proxy.gateway.fetch(
      new Request("https://proxy.example.com/admin/login", {
        method: "POST",
        body: new URLSearchParams({ password: ADMIN }),
      }),
    );
    assertEquals(remote.status, 303);
    assert(
      remote.headers.get("set-cookie")?.split("; ").includes("Secure"),
      "Secure off localhost",
    );
  });
});

Deno.test("each login gets a fresh session; forged, expired and logged-out sessions are refused", async () => {
  await withConsole(async (h) => {
    const first = await login(h);
    const second = await login(h);
    assert(first.cookie !== second.cookie, "a new session id at every login");
    const page = (cookie: string) =>
      fetch(`${h.proxy.url}/admin/keys`, { headers: { cookie }, redirect: "manual" }).then(
        async (r) => {
          await r.body?.cancel();
          return r.status;
        },
      );
    assertEquals(await page(first.cookie), 200);
    const forged = first.cookie.replace(/.$/, (c) => c === "A" ? "B" : "A");
    assertEquals(await page(forged), 303);
    const logout = await fetch(`${h.proxy.url}/admin/logout`, {
      method: "POST",
      headers: { cookie: first.cookie },
      body: new URLSearchParams({ _csrf: first.csrf }),
      redirect: "manual",
    });
    assertEquals(logout.status, 303);
    assert(logout.headers.get("set-cookie")?.includes("Max-Age=0"));
    assertEquals(await page(first.cookie), 303);
    assertEquals(await page(second.cookie), 200);
    h.clock.now += SESSION_TTL_MS + 1;
    assertEquals(await page(second.cookie), 303);
  });
});

Deno.test("login attempts are throttled to 5 a minute per client address", async () => {
  await withConsole(async (h) => {
    const attempt = async (password: string) => {
      const r = await fetch(`${h.proxy.url}/admin/login`, {
        method: "POST",
        body: new URLSearchParams({ password }),
        redirect: "manual",
      });
      await r.body?.cancel();
      return r;
    };
    for (let i = 0; i < 5; i++) assertEquals((await attempt("wrong-password")).status, 401);
    const refused = await attempt(ADMIN);
    assertEquals(refused.status, 429);
    assertEquals(refused.headers.get("retry-after"), "60");
    h.clock.now += 60_001;
    assertEquals((await attempt(ADMIN)).status, 303);

    const from = (hostname: string) =>
      h.proxy.gateway.fetch(
        new Request("http://127.0.0.1/admin/login", {
          method: "POST",
          body: new URLSearchParams({ password: "wrong-password" }),
        }),
        { remoteAddr: { transport: "tcp", hostname, port: 40000 } },
      );
    for (let i = 0; i < 5; i++) assertEquals((await from("203.0.113.1")).status, 401);
    assertEquals((await from("203.0.113.1")).status, 429);
    assertEquals((await from("203.0.113.2")).status, 401, "another address is not throttled");
  });
});

Deno.test("without ADMIN_PASSWORD the console says how to set one and shows nothing else", async () => {
  await ensureBuilt();
  const h = await startHarness();
  try {
    for (const path of [...PAGES, "/admin/login", "/admin/logs/abc"]) {
      const response = await fetch(`${h.proxy.url}${path}`);
      const text = await response.text();
      assertEquals(response.status, 403, path);
      assert(text.includes("ADMIN_PASSWORD"), path);
      assertNotIncludes(text, "AIza...");
      assertNotIncludes(text, "<script");
    }
    const api = await fetch(`${h.proxy.url}/admin/api/keys`);
    assertEquals(api.status, 403);
    await api.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("island bundles are content-hashed and immutable; pages without islands ship no script", async () => {
  await withConsole(async (h) => {
    const { cookie } = await login(h);
    const html = await (await fetch(`${h.proxy.url}/admin/keys`, { headers: { cookie } })).text();
    const src = html.match(/<script type="module" src="([^"]+)"/)?.[1] ?? "";
    assert(/^\/admin\/assets\/keys_manager-[0-9a-f]{10}\.js$/.test(src), src);
    const asset = await fetch(`${h.proxy.url}${src}`);
    assertEquals(asset.status, 200);
    assertEquals(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert(asset.headers.get("content-type")?.startsWith("text/javascript"));
    await asset.body?.cancel();
    const missing = await fetch(`${h.proxy.url}/admin/assets/..%2Fdeno.json`);
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    for (const path of ["/admin/settings", "/admin/logs/nothing"]) {
      const page = await (await fetch(`${h.proxy.url}${path}`, { headers: { cookie } })).text();
      assertNotIncludes(page, '<script type="module"', path);
    }
    const loginPage = await (await fetch(`${h.proxy.url}/admin/login`)).text();
    assertNotIncludes(loginPage, "<script");
  });
});

Deno.test("settings saved in the console drive the proxy; settings forced by the environment are read-only", async () => {
  await withConsole(async (h) => {
    const bearer = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const patch = (body: unknown) =>
      fetch(`${h.proxy.url}/admin/api/settings`, {
        method: "PATCH",
        headers: bearer,
        body: JSON.stringify(body),
      });
    h.fake.failAll({ kind: "status", code: 503 });
    const attempts = async () => {
      const before = h.fake.requests.length;
      const r = await h.generate();
      await r.body?.cancel();
      return h.fake.requests.length - before;
    };
    assertEquals(await attempts(), 3);
    const saved = await patch({ maxAttempts: 1, strategy: "least_used" });
    assertEquals(saved.status, 200);
    assertEquals((await saved.json()).effective.maxAttempts, 1);
    assertEquals(await attempts(), 1);
    const forced = await patch({ upstreamUrl: "https://example.com" });
    assertEquals(forced.status, 409);
    assert((await forced.json()).error.message.includes("UPSTREAM_URL"));
    const reset = await patch({ maxAttempts: null });
    assertEquals((await reset.json()).effective.maxAttempts, 3);
  });
});

Deno.test("every console page carries a strict Content-Security-Policy and security headers", async () => {
  await withConsole(async (h) => {
    const { cookie } = await login(h);
    for (const path of ["/admin/login", ...PAGES]) {
      const response = await fetch(`${h.proxy.url}${path}`, { headers: { cookie } });
      const html = await response.text();
      const csp = response.headers.get("content-security-policy") ?? "";
      assert(csp.includes("default-src 'self'"), `${path}: ${csp}`);
      assert(csp.includes("script-src 'self'") && !/script-src[^;]*unsafe-inline/.test(csp), path);
      assert(csp.includes("object-src 'none'"), path);
      assertEquals(response.headers.get("x-frame-options"), "DENY", path);
      assertEquals(response.headers.get("x-content-type-options"), "nosniff", path);
      assertEquals(response.headers.get("cache-control"), "no-store", path);
      // No inline script may carry code: only JSON island props, which CSP does not execute.
      for (const match of html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>([\s\S]*?)<\/script>/g)) {
        assert(
          /type="application\/json"/.test(match[1] ?? "") || (match[2] ?? "").trim() === "",
          `${path}: inline script`,
        );
      }
    }
  });
});
