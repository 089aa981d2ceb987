/**
 * Console pages over HTTP, without a browser: the upstream URL needs a confirmation before every
 * key goes to a new host, unknown pages highlight no section, a request's attempts form a
 * waterfall, its client address is masked until revealed, and token and key pages exist.
 * @module
 */
import { createApp } from "../core/app.ts";
import { parseConfig } from "../core/config/config.ts";
import { createMemoryStore } from "../core/store/memory_store.ts";
import { assert, assertEquals, assertNotIncludes } from "./support/assert.ts";
import { ensureBuilt } from "./support/browser.ts";
import { fakeKeys, type Harness, startHarness } from "./support/harness.ts";
import { manifest } from "../routes/_manifest.gen.ts";

const ADMIN = "console-pages-admin-password";

async function login(base: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${base}/admin/login`, {
    method: "POST",
    body: new URLSearchParams({ password: ADMIN, next: "/admin" }),
    redirect: "manual",
  });
  assertEquals(response.status, 303);
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  const page = await (await fetch(`${base}/admin/settings`, { headers: { cookie } })).text();
  const csrf = page.match(/name="csrf-token" content="([^"]+)"/)?.[1] ?? "";
  return { cookie, csrf };
}

async function page(base: string, cookie: string, path: string): Promise<[number, string]> {
  const r = await fetch(`${base}${path}`, { headers: { cookie } });
  return [r.status, await r.text()];
}

Deno.test("settings: a new upstream URL is saved only once the admin confirms its host", async () => {
  const config = parseConfig({ SECRET_KEY: "pages-test-secret-0123456", ADMIN_PASSWORD: ADMIN });
  const store = createMemoryStore();
  const gateway = await createApp({ config, store, manifest });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gateway.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const { cookie, csrf } = await login(base);
    const [, form] = await page(base, cookie, "/admin/settings");
    assert(form.includes("sends a real key to this"), "the field warns where keys go");
    const save = (extra: Record<string, string>) =>
      fetch(`${base}/admin/settings`, {
        method: "POST",
        headers: { cookie },
        body: new URLSearchParams({
          _csrf: csrf,
          upstreamUrl: "https://gemini.example.net",
          ...extra,
        }),
        redirect: "manual",
      });
    const asked = await save({});
    assertEquals(asked.status, 409);
    const html = await asked.text();
    assert(html.includes("sends every Gemini key to gemini.example.net"), html);
    assert(html.includes('name="confirmUpstream" value="gemini.example.net"'), html);
    assertEquals((await store.getSettings()).upstreamUrl, undefined, "nothing saved yet");
    const wrongHost = await save({ confirmUpstream: "other.example" });
    assertEquals(wrongHost.status, 409);
    await wrongHost.body?.cancel();
    const confirmed = await save({ confirmUpstream: "gemini.example.net" });
    assertEquals(confirmed.status, 303);
    assertEquals((await store.getSettings()).upstreamUrl, "https://gemini.example.net");
    // Saving other settings while the upstream stays asks nothing.
    const again = await save({ confirmUpstream: "", maxAttempts: "4" });
    assertEquals(again.status, 303);
  } finally {
    await server.shutdown();
    await gateway.logs.flush();
    await store.close();
  }
});

async function withConsole(
  fn: (h: Harness, cookie: string) => Promise<void>,
  env: Record<string, string> = {},
) {
  await ensureBuilt();
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, ...env } });
  try {
    await fn(h, (await login(h.proxy.url)).cookie);
  } finally {
    await h.close();
  }
}

Deno.test("the 404 page highlights no section of the navigation", async () => {
  await withConsole(async (h, cookie) => {
    const [status, html] = await page(h.proxy.url, cookie, "/admin/no-such-page");
    assertEquals(status, 404);
    assertNotIncludes(html, 'aria-current="page"');
    const [, dashboard] = await page(h.proxy.url, cookie, "/admin");
    assert(dashboard.includes('<a href="/admin" aria-current="page">Dashboard</a>'));
  });
});

Deno.test("a request's page shows attempts as a waterfall and reveals the client on demand", async () => {
  await withConsole(async (h, cookie) => {
    h.fake.failFor(fakeKeys(3)[0]!, { kind: "status", code: 503 }, { times: 1 });
    h.fake.failFor(fakeKeys(3)[1]!, { kind: "status", code: 503 }, { times: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await h.generate();
      await r.arrayBuffer();
    }
    await h.proxy.gateway.settle();
    const logs = await (await fetch(`${h.proxy.url}/admin/api/logs?limit=10`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })).json();
    const failover = logs.logs.find((l: { attempts: unknown[] }) => l.attempts.length > 1);
    assert(failover, "a request failed over");
    assert(
      failover.attempts.every((a: { startMs?: number }) => typeof a.startMs === "number"),
      "attempts record their start",
    );
    const [, html] = await page(h.proxy.url, cookie, `/admin/logs/${failover.id}`);
    const starts = [...html.matchAll(/data-start="(\d+)"/g)].map((m) => Number(m[1]));
    assertEquals(starts.length, failover.attempts.length);
    assertEquals(starts, failover.attempts.map((a: { startMs: number }) => a.startMs));
    // The backoff between tries moves the injected clock: later tries start later.
    assert(starts[1]! > starts[0]!, `starts ${starts.join(", ")}`);
    const lefts = [...html.matchAll(/margin-left:\s*([\d.]+)%/g)].map((m) => Number(m[1]));
    assert(lefts.length === starts.length && lefts[1]! > lefts[0]!, `bars at ${lefts.join(", ")}`);
    assert(html.includes('data-client="">127.0.0.0/24') || html.includes(">127.0.0.0/24<"), html);
    assertNotIncludes(html, "127.0.0.1<");
    const [, revealed] = await page(h.proxy.url, cookie, `/admin/logs/${failover.id}?reveal=1`);
    assert(revealed.includes(">127.0.0.1<"), "the full address on demand");
    assert(html.includes(" UTC"), "times say their zone");
  }, { RETRY_BACKOFF_MS: "50" });
});

Deno.test("token and key pages show usage against limits and the key's health", async () => {
  await withConsole(async (h, cookie) => {
    const auth = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const created = await (await fetch(`${h.proxy.url}/admin/api/tokens`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "billing app", limits: { rpd: 10, tpd: 1000 } }),
    })).json();
    const send = await fetch(`${h.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": created.secret, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    await send.arrayBuffer();
    await h.proxy.gateway.settle();
    const [status, html] = await page(h.proxy.url, cookie, `/admin/tokens/${created.token.id}`);
    assertEquals(status, 200);
    assert(html.includes("billing app"));
    assert(html.includes('data-limit="rpd"') && html.includes("1 of 10 (10%)"), html);
    assert(html.includes('data-limit="rpm"') && html.includes("no limit"));
    assertNotIncludes(html, created.secret);
    const [missing] = await page(h.proxy.url, cookie, "/admin/tokens/t_missing");
    assertEquals(missing, 404);
    const log = (await (await fetch(`${h.proxy.url}/admin/api/logs`, { headers: auth })).json())
      .logs[0];
    const [keyStatus, keyHtml] = await page(h.proxy.url, cookie, `/admin/keys/${log.keyId}`);
    assertEquals(keyStatus, 200);
    assert(keyHtml.includes("Success, last 24 h") && keyHtml.includes("100%"), keyHtml);
    for (const key of fakeKeys(3)) assertNotIncludes(keyHtml, key);
  });
});
