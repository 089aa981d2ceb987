/**
 * The console as an operator uses it, in headless Chromium: filter logs with each select and
 * export them, disable three keys at once, read spend by token and key on their pages, charts
 * whose axis labels fit, and every page on a 390 px phone without sideways scrolling.
 * @module
 */
import type { Page } from "playwright-core";
import { assert, assertEquals } from "../support/assert.ts";
import { fakeKeys, type Harness, startHarness, TOKEN } from "../support/harness.ts";
import {
  chartAxes,
  ensureBuilt,
  HAS_CHROMIUM,
  hydrated,
  launchChromium,
  noSideways,
  phoneContext,
  screenshot,
} from "../support/browser.ts";

const ADMIN = "operator-test-admin-password";

Deno.test({
  name: "console for operators: log filters, export, bulk keys, token and key pages, phone",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuilt();
    // A backoff between tries moves the injected clock: failovers take hundreds of ms.
    const h = await startHarness({
      keys: fakeKeys(5),
      env: { ADMIN_PASSWORD: ADMIN, RETRY_BACKOFF_MS: "400" },
    });
    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const base = h.proxy.url;
    try {
      const app = await seedTraffic(h);
      await logIn(page, base);

      await t.step("filters logs with each select and by part of a model", async () => {
        await page.goto(`${base}/admin/logs`);
        await hydrated(page);
        const total = await page.locator("tr[data-log]").count();
        assert(total >= 7, `${total} logs`);
        await choose(page, "#f-status", "4xx");
        await rowsAll(page, (row) => row.includes("UTC401") || row.includes("UTC404"), 2);
        await choose(page, "#f-status", "");
        await choose(page, "#f-error", "auth");
        await rowsAll(page, (row) => row.includes("auth"), 1);
        assert(page.url().includes("errorClass=auth"), page.url());
        await choose(page, "#f-error", "");
        await choose(page, "#f-token", app.id);
        await rowsAll(page, (row) => row.includes("browser app"), 1);
        await choose(page, "#f-token", "");
        const keyValue = await page.locator("#f-key option").nth(1).getAttribute("value");
        const keyLabel = await page.locator("#f-key option").nth(1).textContent();
        await choose(page, "#f-key", keyValue!);
        await rowsAll(page, (row) => row.includes(keyLabel!.trim()));
        await choose(page, "#f-key", "");
        await choose(page, "#f-stream", "true");
        await rowsAll(page, (row) => row.includes("stream"), 1);
        await choose(page, "#f-stream", "");
        await page.fill("#f-model", "pro");
        await Promise.all([
          page.waitForResponse((r) => r.url().includes("/admin/api/logs?") && r.ok()),
          page.press("#f-model", "Enter"),
        ]);
        await rowsAll(page, (row) => row.includes("gemini-2.5-pro"), 1);
        await screenshot(page, "logs-filtered", true);
      });

      await t.step("exports the filtered logs as CSV", async () => {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("[data-export=csv]"),
        ]);
        assert(download.suggestedFilename().endsWith(".csv"), download.suggestedFilename());
        const csv = await Deno.readTextFile((await download.path())!);
        const lines = csv.trim().split("\r\n");
        assert(lines[0]!.startsWith("id,time,status,error_class,error_side,model"), lines[0]);
        assertEquals(lines.length, 2, csv);
        assert(lines[1]!.includes("gemini-2.5-pro") && lines[1]!.includes("127.0.0.0/24"));
      });

      await t.step("the dashboard splits errors by side and groups spend by token", async () => {
        await page.goto(`${base}/admin`);
        await hydrated(page);
        const tile = async (id: string) =>
          (await page.textContent(`[data-tile=${id}] .value`))?.trim() ?? "";
        assert((await tile("client-errors")).startsWith("2"), await tile("client-errors"));
        assert((await tile("upstream-errors")).startsWith("0"), await tile("upstream-errors"));
        await page.waitForSelector("[data-breakdown] [data-error-class=auth]");
        await page.waitForSelector("[data-statuses] >> text=401");
        await Promise.all([
          page.waitForResponse((r) => r.url().includes("group=tokenId")),
          page.click("[data-group=tokenId]"),
        ]);
        await page.waitForSelector("[data-spend=tokenId] >> text=browser app");
        await page.selectOption("#spend-metric", "tokens");
        await page.waitForSelector("#spend-title >> text=Tokens by token");
        await screenshot(page, "dashboard-spend", true);
      });

      await t.step("chart axis labels fit inside their axis, the cost chart's too", async () => {
        await page.waitForSelector(".chart-area[data-y-axis-px]");
        const fit = (axes: Awaited<ReturnType<typeof chartAxes>>) => {
          // uPlot draws labels right-aligned after a 10 px tick and a 5 px gap.
          for (const a of axes) assert(a.label + 15 <= a.axis, JSON.stringify(a));
        };
        const axes = await chartAxes(page);
        assert(axes.length >= 3, JSON.stringify(axes));
        fit(axes);
        const latency = axes.find((a) => a.chart === "latency")!;
        assert(latency.label >= 30, `latency labels are real text: ${JSON.stringify(latency)}`);
        // Spend in USD: the spend chart is drawn again with dollar labels, which fit too.
        await page.selectOption("#spend-metric", "cost");
        await page.waitForSelector('figure[data-chart="spend"] .chart-area[data-y-labels*="$"]');
        const cost = (await chartAxes(page)).find((a) => a.chart === "spend")!;
        assert(cost.labels.every((l) => l.startsWith("$")), JSON.stringify(cost));
        assert(cost.label >= 20, `dollar labels are real text: ${JSON.stringify(cost)}`);
        fit(await chartAxes(page));
      });

      await t.step("a token's page shows usage against its limits and its charts", async () => {
        await page.goto(`${base}/admin/tokens/${app.id}`);
        await hydrated(page);
        await page.waitForSelector("[data-limit=rpd] >> text=1 of 50");
        await page.waitForSelector('figure[data-chart="requests"] .chart-area[data-y-axis-px]');
        assertEquals(await page.getAttribute('figure[data-chart="requests"]', "data-sum"), "1");
        await screenshot(page, "token", true);
      });

      await t.step("a key's page shows its health and charts", async () => {
        await page.goto(`${base}/admin/keys`);
        await hydrated(page);
        await page.click("tr[data-key] a[data-masked] >> nth=0");
        await hydrated(page);
        await page.waitForSelector("text=Success, last 24 h");
        await screenshot(page, "key", true);
      });

      await t.step("disables three keys at once, with progress", async () => {
        await page.goto(`${base}/admin/keys`);
        await hydrated(page);
        const ids = await page.$$eval(
          "tr[data-key]",
          (rows) => rows.slice(0, 3).map((r) => r.getAttribute("data-key")!),
        );
        for (const id of ids) await page.check(`[data-select="${id}"]`);
        await page.waitForSelector("[data-selected-count] >> text=3 selected");
        await screenshot(page, "keys-bulk", true);
        await page.click("[data-bulk-action=disable]");
        await page.waitForSelector("text=Disabled 3 of 3 keys");
        const keys = await adminJson(h, "/keys");
        const disabled = keys.keys.filter((k: { enabled: boolean }) => !k.enabled).map((
          k: { id: string },
        ) => k.id);
        assertEquals(disabled.sort(), [...ids].sort());
        await page.fill("#keys-search", "disabled");
        await page.waitForFunction(() => document.querySelectorAll("tr[data-key]").length === 3);
      });

      await t.step(
        "the playground holds a conversation in OpenAI mode with a system prompt",
        async () => {
          await page.goto(`${base}/admin/playground`);
          await hydrated(page);
          const offered = await page.$$eval(
            "#pg-models option",
            (o) => o.map((x) => x.getAttribute("value")),
          );
          assert(
            offered.includes("gemini-2.5-flash") && !offered.includes("text-embedding-004"),
            offered.join(),
          );
          await page.fill("#pg-token", app.secret);
          await page.selectOption("#pg-mode", "openai");
          await page.click("summary >> text=System prompt and parameters");
          await page.fill("#pg-system", "Answer briefly");
          await page.fill("#pg-temperature", "0.3");
          await page.fill("#pg-max", "64");
          for (const [i, text] of ["First question", "And a follow-up"].entries()) {
            await page.fill("#pg-prompt", text);
            const [request] = await Promise.all([
              page.waitForRequest((r) => r.url().endsWith("/v1beta/openai/chat/completions")),
              page.click("form[aria-label=Prompt] button[type=submit]"),
            ]);
            const body = request.postDataJSON();
            assertEquals(body.messages[0], { role: "system", content: "Answer briefly" });
            assertEquals([body.temperature, body.max_tokens], [0.3, 64]);
            assertEquals(body.messages.length, 2 + i * 2, JSON.stringify(body.messages));
            await page.waitForFunction(
              (n: number) => document.querySelectorAll("[data-turn=model]").length === n,
              i + 1,
            );
          }
          await page.waitForSelector("[data-outcome] >> text=HTTP 200");
          await screenshot(page, "playground-chat", true);
        },
      );

      await t.step("every page fits a 390 px phone, nav and actions in reach", async () => {
        const log = (await adminJson(h, "/logs?limit=1")).logs[0];
        const paths = [
          "/admin",
          "/admin?group=keyId",
          "/admin?group=tokenId&metric=cost",
          "/admin/keys",
          "/admin/tokens",
          `/admin/tokens/${app.id}`,
          `/admin/keys/${log.keyId}`,
          "/admin/logs",
          `/admin/logs/${log.id}`,
          "/admin/settings",
          "/admin/playground",
          "/admin/no-such-page",
        ];
        const phone = await phoneContext(browser, context);
        const small = await phone.newPage();
        for (const path of paths) {
          await small.goto(`${base}${path}`);
          await small.waitForLoadState("load");
          if (await small.locator("gp-island").count()) await hydrated(small);
          await noSideways(small, path);
        }
        await small.goto(`${base}/admin/keys`);
        await hydrated(small);
        const settings = await small.locator("nav a", { hasText: "Settings" }).boundingBox();
        assert(settings && settings.x + settings.width <= 390, JSON.stringify(settings));
        const del = await small.locator("tr[data-key] button", { hasText: "Delete" }).first()
          .boundingBox();
        assert(del && del.x + del.width <= 390, `Delete at ${JSON.stringify(del)}`);
        await screenshot(small, "keys-phone", true);
        await small.goto(`${base}/admin/logs`);
        await hydrated(small);
        await screenshot(small, "logs-phone");
        // Logged out, the login page too.
        const anonymous = await browser.newContext({ viewport: { width: 390, height: 844 } });
        const login = await anonymous.newPage();
        await login.goto(`${base}/admin/login`);
        await noSideways(login, "/admin/login");
        await anonymous.close();
        await phone.close();
      });
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

/** Traffic of every kind: successes on two models, a stream, a failover, a bad token, a 404. */
async function seedTraffic(h: Harness): Promise<{ id: string; secret: string }> {
  const created = await adminFetch(h, "/tokens", {
    method: "POST",
    body: JSON.stringify({ name: "browser app", limits: { rpd: 50 } }),
  });
  const { token, secret } = await created.json();
  const call = async (model: string, key: string, method = "generateContent") => {
    const r = await fetch(`${h.proxy.url}/v1beta/models/${model}:${method}`, {
      method: "POST",
      headers: { "x-goog-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hello" }] }] }),
    });
    await r.arrayBuffer();
    return r.status;
  };
  assertEquals(await call("gemini-2.5-flash", TOKEN), 200);
  assertEquals(await call("gemini-2.5-flash", TOKEN), 200);
  assertEquals(await call("gemini-2.5-pro", TOKEN), 200);
  assertEquals(await call("gemini-2.5-flash", TOKEN, "streamGenerateContent?alt=sse"), 200);
  assertEquals(await call("gemini-2.5-flash", secret), 200);
  h.fake.failFor(fakeKeys(5)[1]!, { kind: "status", code: 503 }, { times: 1 });
  h.fake.failFor(fakeKeys(5)[2]!, { kind: "status", code: 503 }, { times: 1 });
  for (let i = 0; i < 3; i++) assertEquals(await call("gemini-2.5-flash", TOKEN), 200);
  assertEquals(await call("gemini-2.5-flash", "gp-not-a-token"), 401);
  assertEquals(await call("gemini-no-such-model", TOKEN), 404);
  await h.proxy.gateway.settle();
  return { id: token.id, secret };
}

async function logIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.fill("#password", ADMIN);
  await Promise.all([page.waitForURL(`${base}/admin`), page.click("button[type=submit]")]);
  await hydrated(page);
}

/** Picks a select's value and waits for the logs it asks for. */
async function choose(page: Page, selector: string, value: string): Promise<void> {
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("/admin/api/logs?") && r.ok()),
    page.selectOption(selector, value),
  ]);
}

/**
 * Waits until the table shows the rows of the filters in the page's URL (the island marks the
 * query its rows answer, and drops answers to filters changed since), then checks that every row
 * passes a test and, when given, that there are `count` rows.
 */
async function rowsAll(page: Page, test: (row: string) => boolean, count?: number) {
  const asked = new URL(page.url()).search.slice(1);
  await page.waitForFunction(
    (query: string) =>
      document.querySelector("table[aria-label='Request logs']")?.getAttribute("data-query") ===
        query,
    asked,
  );
  const rows = await page.locator("tr[data-log]").allTextContents();
  assert(rows.length > 0, `no rows for ${asked}`);
  if (count !== undefined) {
    assertEquals(rows.length, count, `rows for ${asked}: ${rows.join(" | ")}`);
  }
  for (const row of rows) assert(test(row), `unexpected row for ${asked}: ${row}`);
}

function adminFetch(h: Harness, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${h.proxy.url}/admin/api${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });
}

// deno-lint-ignore no-explicit-any -- test reads of the admin API's JSON
async function adminJson(h: Harness, path: string): Promise<any> {
  const response = await adminFetch(h, path);
  assertEquals(response.status, 200);
  return await response.json();
}
