/**
 * Cost in the console's pages, over HTTP without a browser (pages render on the server, islands
 * included): the dashboard's cost tile and spend by cost, each request's cost in the log list and
 * page (unknown said as such, never $0), a token's budget bar with the moment it resets (UTC),
 * a key's cost, and the tokens list's budget. The harness's clock is 2026-01-15 12:00 PST.
 *
 * The fake counts one token per word: "one two three four five" is 5 prompt tokens and its reply
 * 6 output tokens; on gemini-2.5-flash ($0.30 in, $2.50 out per 1M tokens) that is 16.5 µUSD,
 * rounded half up to 17. `text-embedding-004` has no price, so its cost is unknown.
 * @module
 */
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./support/assert.ts";
import { ensureBuilt } from "./support/browser.ts";
import { type Harness, startHarness, TOKEN } from "./support/harness.ts";

const ADMIN = "console-cost-admin-password";
const auth = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

async function page(h: Harness, cookie: string, path: string): Promise<string> {
  const r = await fetch(`${h.proxy.url}${path}`, { headers: { cookie } });
  assertEquals(r.status, 200, path);
  return await r.text();
}

async function call(h: Harness, key: string, path: string, body: unknown): Promise<number> {
  const r = await fetch(`${h.proxy.url}/v1beta/models/${path}`, {
    method: "POST",
    headers: { "x-goog-api-key": key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await r.arrayBuffer();
  return r.status;
}

/** The text of the element carrying `attribute` (its tags stripped), from rendered HTML. */
function textAt(html: string, attribute: string): string {
  const start = html.indexOf(attribute);
  assert(start >= 0, `no ${attribute}`);
  const tag = /^<(\w+)/.exec(html.slice(html.lastIndexOf("<", start)))![1]!;
  const tags = new RegExp(`<(/?)${tag}\\b[^>]*>`, "g");
  tags.lastIndex = start;
  let depth = 1;
  let end = html.length;
  for (let m = tags.exec(html); m; m = tags.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) {
      end = m.index;
      break;
    }
  }
  return html.slice(html.indexOf(">", start) + 1, end).replace(/<[^>]+>/g, "");
}

Deno.test("the console shows what requests cost, a token's budget bar, and unknown costs as unknown", async () => {
  await ensureBuilt();
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    const login = await fetch(`${h.proxy.url}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ password: ADMIN }),
      redirect: "manual",
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const created = await (await fetch(`${h.proxy.url}/admin/api/tokens`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "budget app", limits: { budgetMicros: 500_000 } }),
    })).json();
    const five = { contents: [{ parts: [{ text: "one two three four five" }] }] };
    for (let i = 0; i < 2; i++) {
      assertEquals(await call(h, created.secret, "gemini-2.5-flash:generateContent", five), 200);
    }
    // Two requests of unknown cost: a model the price table leaves out (the operator dropped
    // gemini-2.5-pro from it), and a billed call that reported no usage.
    const prices = { "gemini-2.5-flash": { input: 0.3, output: 2.5, cached: 0.03 } };
    const patched = await fetch(`${h.proxy.url}/admin/api/settings`, {
      method: "PATCH",
      headers: auth,
      body: JSON.stringify({ prices }),
    });
    assertEquals(patched.status, 200, await patched.text());
    assertEquals(await call(h, TOKEN, "gemini-2.5-pro:generateContent", five), 200);
    const embed = { content: { parts: [{ text: "hello" }] } };
    assertEquals(await call(h, TOKEN, "text-embedding-004:embedContent", embed), 200);
    await h.proxy.gateway.settle();

    const token = await page(h, cookie, `/admin/tokens/${created.token.id}`);
    const bar = textAt(token, 'data-limit="budget"');
    assertStringIncludes(bar, "Spent this month (Pacific month)");
    assertStringIncludes(bar, "$0.000034 of $0.50 (0%)");
    // Midnight Pacific on 1 February, in the UTC the console speaks.
    assertStringIncludes(bar, "resets 2026-02-01 08:00:00 UTC");
    assertStringIncludes(textAt(token, 'data-tile="cost"'), "$0.000034");
    assert(token.includes('data-chart="cost"'), "the token's cost chart");
    assertStringIncludes(token, "$0.50 a month");

    const tokens = await page(h, cookie, "/admin/tokens");
    assertStringIncludes(textAt(tokens, 'data-limit="budgetMicros"'), "$0.50 a month");
    assertNotIncludes(tokens, "budgetMicros 500");

    const dashboard = await page(h, cookie, "/admin?group=tokenId&metric=cost");
    assertEquals(
      textAt(dashboard, 'data-tile="cost"'),
      "Cost$0.000034 + 2 unpricedat the prices in Settings",
    );
    assertStringIncludes(dashboard, "Cost (USD) by token");
    assertEquals(
      textAt(dashboard, `data-spend-row="${created.token.id}"`).replace(/\s+/g, " ").trim(),
      "budget app$0.000034",
    );
    const logs = await (await fetch(`${h.proxy.url}/admin/api/logs?limit=10`, { headers: auth }))
      .json();
    const of = (model: string) => logs.logs.find((l: { model: string }) => l.model === model);
    const list = await page(h, cookie, "/admin/logs");
    const costs = [...list.matchAll(/data-cost[^>]*>([^<]*)</g)].map((m) => m[1]);
    assertEquals(costs, ["unknown", "unknown", "$0.000017", "$0.000017"]);
    const detail = (model: string) => page(h, cookie, `/admin/logs/${of(model).id}`);
    assertEquals(
      textAt(await detail("gemini-2.5-pro"), "data-cost"),
      "unknown: gemini-2.5-pro has no price (see Model prices)",
    );
    assertEquals(
      textAt(await detail("text-embedding-004"), "data-cost"),
      "unknown: Google reported no usage for this billed call",
    );
    assertEquals(textAt(await detail("gemini-2.5-flash"), "data-cost"), "$0.000017");
    const priced = of("gemini-2.5-flash");
    const key = await page(h, cookie, `/admin/keys/${priced.keyId}`);
    const keyCost = /Cost, last 24 h<\/dt><dd[^>]*>([^<]*)</.exec(key)?.[1];
    assertEquals(keyCost, "$0.000017", "the key answered one priced request");
  } finally {
    await h.close();
  }
});
