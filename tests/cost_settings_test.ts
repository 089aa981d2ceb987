/**
 * Model prices edited in the console's Settings page (a plain form, CSRF required) and through
 * `PATCH /admin/api/settings`: validated and bounded, applied to the next request's cost at once,
 * and returned to Google's published prices on demand. Real sockets, the harness's fake upstream.
 */
import type { LogRecord } from "../core/store/log_record.ts";
import { MAX_PRICED_MODELS } from "../core/cost/price_schema.ts";
import { DEFAULT_PRICES, PRICES_TAKEN_ON } from "../core/cost/prices.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { ensureBuilt } from "./support/browser.ts";
import { type Harness, startHarness } from "./support/harness.ts";

const ADMIN = "cost-settings-admin-password";
const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

async function withConsole(fn: (h: Harness) => Promise<void>): Promise<void> {
  await ensureBuilt();
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Logs in; returns the session cookie and the page's CSRF token. */
async function login(h: Harness): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${h.proxy.url}/admin/login`, {
    method: "POST",
    body: new URLSearchParams({ password: ADMIN, next: "/admin/settings" }),
    redirect: "manual",
  });
  assertEquals(response.status, 303);
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  const page = await (await fetch(`${h.proxy.url}/admin/settings`, { headers: { cookie } })).text();
  const csrf = page.match(/name="csrf-token" content="([^"]+)"/)?.[1] ?? "";
  assert(csrf.length >= 20, "the page carries a CSRF token");
  return { cookie, csrf };
}

async function postForm(h: Harness, cookie: string, fields: Record<string, string>) {
  return await fetch(`${h.proxy.url}/admin/settings`, {
    method: "POST",
    headers: { cookie },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
}

/** The cost of the newest generateContent record. */
async function lastCost(h: Harness): Promise<number | undefined> {
  await h.proxy.gateway.settle();
  const { logs } = await (await fetch(`${h.proxy.url}/admin/api/logs?limit=1`, { headers: admin }))
    .json() as { logs: LogRecord[] };
  return logs[0]?.costMicros;
}

Deno.test("the Settings page edits the price table with a CSRF-checked form; the next request is priced by it", () =>
  withConsole(async (h) => {
    const { cookie, csrf } = await login(h);
    const page = await (await fetch(`${h.proxy.url}/admin/settings`, { headers: { cookie } }))
      .text();
    assertStringIncludes(page, `from dated copies of that page read up to ${PRICES_TAKEN_ON}`);
    // Each built-in model says where its price comes from, and the day it was read.
    const sources = page.slice(page.indexOf("data-price-sources"));
    assertStringIncludes(sources, "gemini-3.1-pro-preview</span>: <span >input and output");
    assertStringIncludes(sources, "both tiers, read 2026-10-07");
    const rows = Object.keys(DEFAULT_PRICES);
    assertStringIncludes(page, `name="p.0.model" value="${rows[0]}"`);
    assertStringIncludes(
      page,
      `name="p.${rows.length + 4}.model"`,
      "five empty rows to add models",
    );

    const edited = {
      _form: "prices",
      "p.0.model": "gemini-2.5-flash",
      "p.0.input": "1",
      "p.0.output": "2",
      "p.3.model": "my-tuned-model",
      "p.3.input": "0.5",
      "p.3.output": "1.5",
      "p.3.above": "1000",
      "p.3.longInput": "1",
      "p.3.longOutput": "3",
    };
    const refused = await postForm(h, cookie, edited);
    assertEquals(refused.status, 403, "no CSRF token");
    await refused.body?.cancel();
    const saved = await postForm(h, cookie, { ...edited, _csrf: csrf });
    assertEquals([saved.status, saved.headers.get("location")], [
      303,
      "/admin/settings?saved#prices",
    ]);
    await saved.body?.cancel();
    const view = await (await fetch(`${h.proxy.url}/admin/api/settings`, { headers: admin }))
      .json();
    assertEquals(view.effective.prices, {
      "gemini-2.5-flash": { input: 1, output: 2 },
      "my-tuned-model": {
        input: 0.5,
        output: 1.5,
        longContext: { above: 1000, input: 1, output: 3 },
      },
    });
    // "hello" and "Echo: hello": 1 × 1.00 + 2 × 2.00 = 5 µUSD at the new prices.
    const served = await h.generate("gemini-2.5-flash", "hello");
    assertEquals(served.status, 200);
    await served.body?.cancel();
    assertEquals(await lastCost(h), 5);

    const bad = await postForm(h, cookie, {
      _csrf: csrf,
      _form: "prices",
      "p.0.model": "gemini-2.5-flash",
      "p.0.input": "0.0000001",
      "p.0.output": "2",
    });
    assertEquals(bad.status, 400);
    assertStringIncludes(await bad.text(), "must have at most 6 decimal places");
    const missing = await postForm(h, cookie, {
      _csrf: csrf,
      _form: "prices",
      "p.0.model": "gemini-2.5-flash",
      "p.0.input": "1",
    });
    assertEquals(missing.status, 400);
    assertStringIncludes(await missing.text(), "needs its output (incl. thinking) price");

    const reset = await postForm(h, cookie, { _csrf: csrf, _form: "prices-reset" });
    assertEquals(reset.status, 303);
    await reset.body?.cancel();
    const back = await (await fetch(`${h.proxy.url}/admin/api/settings`, { headers: admin }))
      .json();
    assertEquals([back.stored.prices, back.effective.prices], [undefined, DEFAULT_PRICES]);
    assertEquals(back.pricesSource.takenOn, PRICES_TAKEN_ON);
    assertEquals(Object.keys(back.pricesSource.models).sort(), Object.keys(DEFAULT_PRICES).sort());
  }));

Deno.test("PATCH /admin/api/settings validates prices: range, decimals, shape and the number of models", () =>
  withConsole(async (h) => {
    const patch = (prices: unknown) =>
      fetch(`${h.proxy.url}/admin/api/settings`, {
        method: "PATCH",
        headers: admin,
        body: JSON.stringify({ prices }),
      });
    const tooMany = Object.fromEntries(
      Array.from({ length: MAX_PRICED_MODELS + 1 }, (_, i) => [`m-${i}`, { input: 1, output: 1 }]),
    );
    const cases: [unknown, string][] = [
      [{ m: { input: -1, output: 1 } }, "must not be negative"],
      [{ m: { input: 10_001, output: 1 } }, "must be at most 10000"],
      [{ m: { input: 0.1234567, output: 1 } }, "at most 6 decimal places"],
      [{ m: { input: 9999.1234567, output: 1 } }, "at most 6 decimal places"],
      [{ m: { input: 1e-7, output: 1 } }, "at most 6 decimal places"],
      [{ m: { input: 1 } }, "prices.m.output"],
      [{ m: { input: 1, output: 1, bogus: 1 } }, "bogus"],
      [{ "bad model!": { input: 1, output: 1 } }, "is not a model id"],
      [{ m: { input: 1, output: 1, longContext: { input: 1, output: 1 } } }, "above"],
      [tooMany, `at most ${MAX_PRICED_MODELS} models`],
      ["cheap", "prices"],
    ];
    for (const [prices, message] of cases) {
      const response = await patch(prices);
      const text = await response.text();
      assertEquals(response.status, 400, text);
      assertStringIncludes(text, message);
    }
    const ok = await patch({ "gemini-2.5-flash": { input: 0.000001, output: 9999.999999 } });
    assertEquals(ok.status, 200);
    assertEquals((await ok.json()).effective.prices, {
      "gemini-2.5-flash": { input: 0.000001, output: 9999.999999 },
    });
    const cleared = await patch(null);
    assertEquals((await cleared.json()).effective.prices, DEFAULT_PRICES);
  }));
