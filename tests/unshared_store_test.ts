/**
 * No half-shared state: where every instance of a host keeps a store of its own (`STORE=memory`
 * on Workers, Edge Functions, Deno Deploy), admin writes are refused with 409 naming the store to
 * configure, the console says so in a banner, and reads keep working. The Deno app runs here with
 * the adapter's flag forced, and on a simulated Deno Deploy where the adapter sets it by itself.
 * @module
 */
import { type RunningServer, type StartOptions, startServer } from "../adapters/deno/server.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { ensureBuilt } from "./support/browser.ts";
import { SECRET, TOKEN } from "./support/harness.ts";

const ADMIN = "unshared-store-admin-password";
const REMEDY = "set STORE=supabase with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY";

async function withServer(
  env: Record<string, string>,
  options: StartOptions,
  fn: (server: RunningServer) => Promise<void>,
) {
  await ensureBuilt();
  const server = await startServer({
    PORT: "0",
    STORE: "memory",
    SECRET_KEY: SECRET,
    ADMIN_PASSWORD: ADMIN,
    PROXY_TOKENS: TOKEN,
    ...env,
  }, { logSink: () => {}, ...options });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Logs in to the console: the session cookie and the CSRF token. */
async function login(url: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${url}/admin/login`, {
    method: "POST",
    body: new URLSearchParams({ password: ADMIN, next: "/admin" }),
    redirect: "manual",
  });
  await response.body?.cancel();
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  const page = await (await fetch(`${url}/admin/tokens`, { headers: { cookie } })).text();
  const csrf = page.match(/name="csrf-token" content="([^"]+)"/)?.[1] ?? "";
  assert(csrf, "signed in");
  return { cookie, csrf };
}

Deno.test("an unshared store: the console shows a banner naming the store to configure, on every page", async () => {
  await withServer({}, { unsharedStore: { remedy: REMEDY } }, async (server) => {
    const { cookie } = await login(server.url);
    for (const path of ["/admin", "/admin/keys", "/admin/tokens", "/admin/settings"]) {
      const page = await fetch(`${server.url}${path}`, { headers: { cookie } });
      assertEquals(page.status, 200, path);
      const html = await page.text();
      assertStringIncludes(html, 'data-banner="store-not-shared"', path);
      assertStringIncludes(html, "Admin changes are refused", path);
      assertStringIncludes(html, REMEDY, path);
    }
  });
  await withServer({}, {}, async (server) => {
    const { cookie } = await login(server.url);
    const html = await (await fetch(`${server.url}/admin`, { headers: { cookie } })).text();
    assert(!html.includes("store-not-shared"), "no banner on a single Deno process");
  });
});

Deno.test("an unshared store: admin API writes and the settings form answer 409, reads answer 200", async () => {
  await withServer({}, { unsharedStore: { remedy: REMEDY } }, async (server) => {
    const { cookie, csrf } = await login(server.url);
    const headers = { cookie, "x-csrf-token": csrf, "content-type": "application/json" };
    const created = await fetch(`${server.url}/admin/api/tokens`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "would vanish" }),
    });
    assertEquals(created.status, 409);
    const { error } = await created.json();
    assertEquals([error.code, error.status], [409, "FAILED_PRECONDITION"]);
    assertEquals(error.details[0].reason, "STORE_NOT_SHARED");
    assertStringIncludes(error.message, REMEDY);
    const keys = await fetch(`${server.url}/admin/api/keys`, {
      method: "POST",
      headers,
      body: JSON.stringify({ keys: ["AIzaFAKE-TEST-key-000000000000000000009"] }),
    });
    await keys.body?.cancel();
    assertEquals(keys.status, 409);

    const form = await fetch(`${server.url}/admin/settings`, {
      method: "POST",
      headers: { cookie },
      body: new URLSearchParams({ _csrf: csrf, maxAttempts: "5" }),
    });
    assertEquals(form.status, 409);
    assertStringIncludes(await form.text(), REMEDY);

    const listed = await fetch(`${server.url}/admin/api/tokens`, { headers: { cookie } });
    assertEquals(listed.status, 200);
    assertEquals((await listed.json()).tokens.length, 1, "nothing was written");
    const settings =
      await (await fetch(`${server.url}/admin/api/settings`, { headers: { cookie } }))
        .json();
    assertEquals(settings.effective.maxAttempts, 3, "the form changed nothing");
  });
});

Deno.test("STORE=memory on Deno Deploy refuses admin writes by itself; a single Deno process accepts them", async () => {
  const write = (url: string) =>
    fetch(`${url}/admin/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "app" }),
    });
  await withServer({ DENO_DEPLOYMENT_ID: "test-deployment" }, { assets: null }, async (server) => {
    const response = await write(server.url);
    assertEquals(response.status, 409);
    assertStringIncludes((await response.json()).error.message, "unset STORE to use Deno KV");
  });
  await withServer({}, { assets: null }, async (server) => {
    const response = await write(server.url);
    await response.body?.cancel();
    assertEquals(response.status, 201);
  });
});
