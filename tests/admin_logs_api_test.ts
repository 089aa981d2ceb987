/**
 * The admin API's answers for operators: private headers, log filters by part of a model or a
 * search, filter values, streamed exports, client addresses masked unless revealed, and
 * `TRUST_PROXY` deciding which `X-Forwarded-For` hop is the client.
 * @module
 */
import { assert, assertEquals } from "./support/assert.ts";
import { type Harness, startHarness, TOKEN } from "./support/harness.ts";

const ADMIN = "logs-api-test-admin-password";

async function withProxy(fn: (h: Harness) => Promise<void>, env: Record<string, string> = {}) {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, ...env } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

function admin(h: Harness, path: string): Promise<Response> {
  return fetch(`${h.proxy.url}/admin/api${path}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
}

// deno-lint-ignore no-explicit-any -- test reads of the admin API's JSON
async function adminJson(h: Harness, path: string): Promise<any> {
  const response = await admin(h, path);
  assertEquals(response.status, 200, await response.clone().text());
  return await response.json();
}

function send(h: Harness, options: { model?: string; headers?: Record<string, string> } = {}) {
  return fetch(
    `${h.proxy.url}/v1beta/models/${options.model ?? "gemini-2.5-flash"}:generateContent`,
    {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN, "content-type": "application/json", ...options.headers },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    },
  ).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

Deno.test("admin API answers, errors included, carry no-store and nosniff", async () => {
  await withProxy(async (h) => {
    for (const path of ["/logs", "/keys", "/stats", "/logs/facets", "/logs/missing"]) {
      const r = await admin(h, path);
      await r.body?.cancel();
      assertEquals(r.headers.get("cache-control"), "no-store", path);
      assertEquals(r.headers.get("x-content-type-options"), "nosniff", path);
    }
    const refused = await fetch(`${h.proxy.url}/admin/api/keys`);
    await refused.body?.cancel();
    assertEquals(refused.status, 401);
    assertEquals(refused.headers.get("cache-control"), "no-store");
    assertEquals(refused.headers.get("x-content-type-options"), "nosniff");
  });
});

Deno.test("log filters: part of a model, search over path and user agent, facets list real values", async () => {
  await withProxy(async (h) => {
    assertEquals(
      await send(h, { model: "gemini-2.5-pro", headers: { "user-agent": "curl/8.5" } }),
      200,
    );
    assertEquals(await send(h, { headers: { "user-agent": "my-app/1.0" } }), 200);
    assertEquals(await send(h, { headers: { "x-goog-api-key": "gp-wrong" } }), 401);
    await h.proxy.gateway.settle();
    const models = (q: string) =>
      adminJson(h, `/logs?${q}`).then((p) => p.logs.map((l: { model: string }) => l.model));
    assertEquals(await models("model=pro"), ["gemini-2.5-pro"]);
    assertEquals(await models("model=GEMINI").then((m) => m.length), 3);
    assertEquals(await models("search=my-app"), ["gemini-2.5-flash"]);
    assertEquals(await models("search=generateContent").then((m) => m.length), 3);
    assertEquals(await models("errorClass=auth"), ["gemini-2.5-flash"]);
    const facets = await adminJson(h, "/logs/facets");
    assertEquals([...facets.models].sort(), ["gemini-2.5-flash", "gemini-2.5-pro"]);
    const auth = facets.errorClasses.find((c: { id: string }) => c.id === "auth");
    assertEquals(auth.group, "client");
    assert(facets.errorClasses.some((c: { id: string }) => c.id === "quota_minute"));
    assertEquals(facets.keys.length, 3);
    assert(facets.tokens.length >= 1);
  });
});

Deno.test("client addresses: the socket peer by default, masked unless revealed", async () => {
  await withProxy(async (h) => {
    const tail = await admin(h, "/logs/tail");
    const events = tail.body!.pipeThrough(new TextDecoderStream()).getReader();
    // Without TRUST_PROXY a forged header changes nothing.
    assertEquals(await send(h, { headers: { "x-forwarded-for": "198.51.100.77" } }), 200);
    await h.proxy.gateway.settle();
    const [listed] = (await adminJson(h, "/logs")).logs;
    assertEquals(listed.client, "127.0.0.0/24");
    const revealed = (await adminJson(h, "/logs?reveal=1")).logs[0];
    assertEquals(revealed.client, "127.0.0.1");
    assertEquals((await adminJson(h, `/logs/${listed.id}`)).client, "127.0.0.0/24");
    assertEquals((await adminJson(h, `/logs/${listed.id}?reveal=client`)).client, "127.0.0.1");
    // The live tail shows what the list shows.
    let seen = "";
    while (!seen.includes("data: ")) seen += (await events.read()).value ?? "";
    await events.cancel();
    const tailed = JSON.parse(seen.slice(seen.indexOf("data: ") + 6).split("\n")[0]!);
    assertEquals(tailed.client, "127.0.0.0/24");
  });
});

Deno.test("TRUST_PROXY=1 takes the right-most X-Forwarded-For entry, never a forged one", async () => {
  await withProxy(async (h) => {
    const xff = "6.6.6.6, 203.0.113.9";
    assertEquals(await send(h, { headers: { "x-forwarded-for": xff } }), 200);
    await h.proxy.gateway.settle();
    const [log] = (await adminJson(h, "/logs?reveal=1")).logs;
    assertEquals(log.client, "203.0.113.9");
    assertEquals((await adminJson(h, "/logs")).logs[0].client, "203.0.113.0/24");
    const csv = await (await admin(h, "/logs/export?format=csv")).text();
    assert(csv.includes("203.0.113.0/24") && !csv.includes("203.0.113.9"), csv);
    const full = await (await admin(h, "/logs/export?format=csv&reveal=1")).text();
    assert(full.includes("203.0.113.9"), full);
  }, { TRUST_PROXY: "1" });
});

Deno.test("TRUST_PROXY must be a hop count", async () => {
  const { parseConfig } = await import("../core/config/config.ts");
  assertEquals(parseConfig({ TRUST_PROXY: "2" }).trustProxy, 2);
  assertEquals(parseConfig({}).trustProxy, 0);
  let message = "";
  try {
    parseConfig({ TRUST_PROXY: "yes" });
  } catch (e) {
    message = String(e);
  }
  assert(message.includes("TRUST_PROXY"), message);
});

Deno.test("exports: CSV with a header and NDJSON, filtered, as attachments", async () => {
  await withProxy(async (h) => {
    assertEquals(
      await send(h, { model: "gemini-2.5-pro", headers: { "user-agent": "=HYPERLINK(1)" } }),
      200,
    );
    assertEquals(await send(h), 200);
    await h.proxy.gateway.settle();
    const csv = await admin(h, "/logs/export?format=csv&model=pro");
    assertEquals(csv.headers.get("content-type"), "text/csv; charset=utf-8");
    assert(csv.headers.get("content-disposition")?.startsWith("attachment;"));
    assertEquals(csv.headers.get("cache-control"), "no-store");
    const lines = (await csv.text()).trim().split("\r\n");
    assertEquals(lines.length, 2);
    assert(lines[0]!.startsWith("id,time,status,error_class,error_side,model"), lines[0]);
    assert(lines[1]!.includes("gemini-2.5-pro"), lines[1]);
    // A client's text never becomes a spreadsheet formula.
    assert(lines[1]!.includes(",'=HYPERLINK(1)"), lines[1]);
    const ndjson = await (await admin(h, "/logs/export?format=ndjson")).text();
    const records = ndjson.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(records.length, 2);
    assertEquals(records.map((r) => r.model).sort(), ["gemini-2.5-flash", "gemini-2.5-pro"]);
  });
});

Deno.test("stats of one key or token, with errors split by side and status", async () => {
  await withProxy(async (h) => {
    assertEquals(await send(h), 200);
    assertEquals(await send(h, { headers: { "x-goog-api-key": "gp-wrong" } }), 401);
    await h.proxy.gateway.settle();
    const stats = await adminJson(h, "/stats?range=1h");
    assertEquals(stats.totals.statuses, { "401": 1 });
    assertEquals(stats.series[0].overall.errorGroups.client, 1);
    assertEquals(stats.series[0].overall.errorGroups.upstream, 0);
    const [log] = (await adminJson(h, "/logs?status=2xx")).logs;
    const one = await adminJson(h, `/stats?range=1h&keyId=${log.keyId}`);
    assertEquals(one.totals.requests, 1);
    const token = await adminJson(h, `/stats?range=1h&tokenId=${log.tokenId}`);
    assertEquals(token.totals.requests, 1);
  });
});
