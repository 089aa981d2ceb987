/**
 * Cost in the console, in headless Chromium: an admin creates a token with a monthly budget in
 * USD in the tokens form, an app spends it through the proxy with the real `@google/genai` client
 * (against the fake upstream), the token's budget bar fills and the next call gets
 * `429 TOKEN_BUDGET_EXCEEDED`; the dashboard shows the spending by token in USD, the charts' dollar
 * labels fit their axis, and the changed pages fit a 390 px phone.
 *
 * Each call asks gemini-2.5-pro ($1.25 in, $10 out per 1M tokens) "one two three four five" with a
 * thinking budget of 25,000 tokens; the fake answers with 5 prompt tokens, 6 output tokens and
 * 25,000 thinking tokens (billed as output): 5 × 1.25 + 25,006 × 10 = 250,066.25 µUSD, rounded
 * to 250,066 ($0.25). A budget of $0.50 admits two calls (each reserves about $0.08 up front: 8,192
 * output tokens at $10) and refuses the third, once $0.500132 is spent.
 * @module
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import type { Page } from "playwright-core";
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startHarness } from "../support/harness.ts";
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

const ADMIN = "cost-browser-admin-password";
const ONE_CALL = 250_066;

Deno.test({
  name:
    "cost in Chromium: a budget set in the console fills its bar, then 429 TOKEN_BUDGET_EXCEEDED",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureBuilt();
    const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const base = h.proxy.url;
    const token = { id: "", secret: "" };
    try {
      await page.goto(`${base}/admin/login`);
      await page.fill("#password", ADMIN);
      await Promise.all([page.waitForURL(`${base}/admin`), page.click("button[type=submit]")]);

      await t.step("creates a token with a monthly budget in USD in the tokens form", async () => {
        await page.goto(`${base}/admin/tokens`);
        await hydrated(page);
        await page.click("button >> text=New token");
        await page.fill("#new-token-name", "budget app");
        await page.fill("#new-token-budget", "half a dollar");
        await page.click("button >> text=Create token");
        await page.waitForSelector('[role=alert] >> text=Monthly budget: "half a dollar"');
        await page.fill("#new-token-budget", "0.50");
        await page.click("button >> text=Create token");
        await page.waitForSelector("[data-issued]");
        token.secret = await page.inputValue("#issued-secret");
        const row = page.locator("tr[data-token]", { hasText: "budget app" });
        token.id = (await row.getAttribute("data-token"))!;
        await row.locator('[data-limit="budgetMicros"] >> text=$0.50 a month').waitFor();
        const stored = await adminJson(base, `/tokens/${token.id}`);
        assertEquals(stored.limits, { budgetMicros: 500_000 });
      });

      const ai = new GoogleGenAI({ apiKey: token.secret, httpOptions: { baseUrl: base } });
      const ask = () =>
        ai.models.generateContent({
          model: "gemini-2.5-pro",
          contents: "one two three four five",
          config: { thinkingConfig: { thinkingBudget: 25_000 } },
        });

      await t.step("spends through the proxy and the budget bar fills", async () => {
        assertEquals((await ask()).text, "Echo: one two three four five");
        await h.proxy.gateway.settle();
        await page.goto(`${base}/admin/tokens/${token.id}`);
        await hydrated(page);
        await budgetBar(page, "$0.25 of $0.50 (50%)", "");
        assertEquals((await ask()).text, "Echo: one two three four five");
        await h.proxy.gateway.settle();
        await page.reload();
        await hydrated(page);
        await budgetBar(page, "$0.50 of $0.50 (100%)", "full");
        // Midnight Pacific on 1 February, in the UTC every console time is in.
        await page.waitForSelector(
          '[data-limit=budget] [data-note] >> text="resets 2026-02-01 08:00:00 UTC"',
        );
        const view = await adminJson(base, `/tokens/${token.id}`);
        assertEquals(view.usage.month.costMicros, 2 * ONE_CALL);
      });

      await t.step("the next call gets 429 TOKEN_BUDGET_EXCEEDED", async () => {
        const refusal = await ask().then(() => null, (e) => e);
        assert(refusal instanceof ApiError, String(refusal));
        assertEquals(refusal.status, 429);
        assertStringIncludes(refusal.message, "TOKEN_BUDGET_EXCEEDED");
        assertStringIncludes(refusal.message, "budget of $0.50 a month");
        const generated = h.fake.requests.filter((r) => r.path.endsWith(":generateContent"));
        assertEquals(generated.length, 2, "the refused call never reached upstream");
        await h.proxy.gateway.settle();
        await page.reload();
        await hydrated(page);
        await page.waitForSelector('[data-tile="client-errors"] .value >> text=1');
        await page.waitForSelector('figure[data-chart="cost"] .chart-area[data-y-labels*="$"]');
        const cost = (await chartAxes(page)).find((a) => a.chart === "cost")!;
        assert(cost.labels.every((l) => l.startsWith("$")), JSON.stringify(cost));
        assert(cost.label + 15 <= cost.axis, `dollar labels fit: ${JSON.stringify(cost)}`);
        await screenshot(page, "token-budget", true);
      });

      await t.step("the dashboard shows the spending by token in USD", async () => {
        await page.goto(`${base}/admin`);
        await hydrated(page);
        await page.waitForSelector('[data-tile="cost"] .value >> text="$0.50"');
        await Promise.all([
          page.waitForResponse((r) => r.url().includes("group=tokenId")),
          page.click("[data-group=tokenId]"),
        ]);
        await page.selectOption("#spend-metric", "cost");
        await page.waitForSelector("#spend-title >> text=Cost (USD) by token");
        const row = page.locator(`[data-spend-row="${token.id}"]`);
        assertEquals((await row.locator("a").textContent())?.trim(), "budget app");
        assertEquals((await row.locator("[data-spend-value]").textContent())?.trim(), "$0.50");
        assert(page.url().includes("metric=cost"), page.url());
        await page.waitForSelector('figure[data-chart="spend"] .chart-area[data-y-labels*="$"]');
        const spend = (await chartAxes(page)).find((a) => a.chart === "spend")!;
        assert(spend.label + 15 <= spend.axis, `dollar labels fit: ${JSON.stringify(spend)}`);
        await screenshot(page, "dashboard-cost", true);
      });

      await t.step("the changed pages fit a 390 px phone", async () => {
        const log = (await adminJson(base, "/logs?limit=1")).logs[0];
        const phone = await phoneContext(browser, context);
        const small = await phone.newPage();
        for (
          const path of [
            "/admin?group=tokenId&metric=cost",
            `/admin/tokens/${token.id}`,
            "/admin/tokens",
            "/admin/logs",
            `/admin/logs/${log.id}`,
          ]
        ) {
          await small.goto(`${base}${path}`);
          await small.waitForLoadState("load");
          if (await small.locator("gp-island").count()) await hydrated(small);
          await noSideways(small, path);
        }
        await small.goto(`${base}/admin/tokens`);
        await hydrated(small);
        await small.click(`tr[data-token="${token.id}"] button >> text=Edit`);
        assertEquals(await small.inputValue(`#edit-${token.id}-budget`), "0.5");
        await noSideways(small, "/admin/tokens, editing");
        await phone.close();
      });
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

/** Waits until the budget bar reads `text`, and checks its fill's colour class. */
async function budgetBar(page: Page, text: string, level: string): Promise<void> {
  await page.waitForSelector(`[data-limit=budget] >> text="${text}"`);
  assertEquals(await page.getAttribute("[data-limit=budget] .bar span", "class"), level);
}

// deno-lint-ignore no-explicit-any -- test reads of the admin API's JSON
async function adminJson(base: string, path: string): Promise<any> {
  const response = await fetch(`${base}/admin/api${path}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assertEquals(response.status, 200);
  return await response.json();
}
