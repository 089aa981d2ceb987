/**
 * The admin console in headless Chromium against a proxy on Deno KV with the fake upstream: log
 * in, import keys, create a token and use it, watch the request in the logs and on the dashboard,
 * change a setting, try the playground; a screenshot of every page.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { maskSecret } from "../../core/secrets/secrets.ts";
import { assert, assertEquals, assertNotIncludes } from "../support/assert.ts";
import { fakeKeys, type Harness, startHarness, TOKEN } from "../support/harness.ts";
import {
  ensureBuilt,
  HAS_CHROMIUM,
  hydrated,
  launchChromium,
  screenshot,
} from "../support/browser.ts";

const ADMIN = "browser-test-admin-password";
const FROM_FILE = "AIzaFAKE-TEST-key-from-a-csv-file-000004";
const IMPORTED = [
  "AIzaFAKE-TEST-imported-key-00000000001",
  "AIzaFAKE-TEST-imported-key-00000000002",
  "AQ.FAKE-TEST-imported-newstyle-key-0000003",
];

Deno.test({
  name: "admin console in Chromium: login, keys, tokens, logs, dashboard, settings, playground",
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
    let secret = "";
    try {
      await t.step("a wrong password is refused", async () => {
        await page.goto(`${base}/admin`);
        assert(page.url().startsWith(`${base}/admin/login?next=`), page.url());
        await page.fill("#password", "not-the-password");
        const [response] = await Promise.all([
          page.waitForResponse((r) =>
            r.url().endsWith("/admin/login") && r.request().method() === "POST"
          ),
          page.click("button[type=submit]"),
        ]);
        assertEquals(response.status(), 401);
        assert((await page.textContent("[role=alert]"))?.includes("Wrong password"));
        assertEquals(await page.locator("script[type=module]").count(), 0);
        await screenshot(page, "login");
      });

      await t.step("logs in and lands on the dashboard", async () => {
        await page.fill("#password", ADMIN);
        await Promise.all([page.waitForURL(`${base}/admin`), page.click("button[type=submit]")]);
        await hydrated(page);
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === "gp_admin");
        assert(session?.httpOnly && session.sameSite === "Strict", JSON.stringify(session));
      });

      await t.step("imports keys by paste with a masked, de-duplicated preview", async () => {
        await page.goto(`${base}/admin/keys`);
        await hydrated(page);
        await page.click("text=Add keys");
        const existing = fakeKeys(3)[0]!;
        await page.fill(
          "#keys-paste",
          `${IMPORTED[0]}\n${IMPORTED[1]}, ${IMPORTED[0]}\nGEMINI_API_KEY=${existing}\n"${
            IMPORTED[2]
          }"`,
        );
        await page.waitForSelector("text=4 distinct keys found, 3 new, 1 repeat dropped");
        assertEquals(await page.locator("[data-preview]").count(), 4);
        await screenshot(page, "keys-import");
        await page.click("text=Import 3 keys");
        await page.waitForSelector("text=Added 3 keys");
        // The table re-renders after the message appears: wait for it rather than race it.
        await page.waitForFunction(
          (n: number) => document.querySelectorAll("tr[data-key]").length === n,
          6,
        );
        assertEquals(await page.locator("tr[data-key]").count(), 6);
        const masked = await page.locator("[data-masked]").allTextContents();
        for (const key of IMPORTED) assert(masked.includes(maskSecret(key)), masked.join());
        await assertNoSecrets(page, [...IMPORTED, ...fakeKeys(3)]);
      });

      await t.step("imports keys from a file, telling apart the ones already added", async () => {
        await page.click("text=Add keys");
        await page.setInputFiles("#keys-file", {
          name: "keys.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(`name,key\nold,${IMPORTED[0]}\nnew,${FROM_FILE}\n`),
        });
        await page.waitForSelector("text=2 distinct keys found, 1 new");
        await page.click("text=Import 1 key");
        await page.waitForSelector("text=Added 1 key");
        // The table re-renders after the message appears: wait for it rather than race it.
        await page.waitForFunction(
          (n: number) => document.querySelectorAll("tr[data-key]").length === n,
          7,
        );
        assertEquals(await page.locator("tr[data-key]").count(), 7);
        await assertNoSecrets(page, [FROM_FILE]);
      });

      await t.step("shows cooling and disabled keys after failing traffic", async () => {
        h.fake.failFor(
          fakeKeys(3)[1]!,
          { kind: "quota", scope: "minute", retryDelaySeconds: 600 },
          {
            times: 1,
          },
        );
        h.fake.failFor(IMPORTED[2]!, { kind: "invalid_key" });
        for (let i = 0; i < 14; i++) assertEquals((await h.generate()).status, 200);
        const seen = new Set(h.fake.requests.map((r) => r.key));
        assert(seen.has(fakeKeys(3)[1]!) && seen.has(IMPORTED[2]!), [...seen].join());
        await h.proxy.gateway.settle();
        await page.reload();
        await hydrated(page);
        await page.waitForSelector("tr[data-key] .pill.warn");
        await page.waitForSelector("tr[data-key] .pill.bad");
        await screenshot(page, "keys", true);
      });

      await t.step(
        "creates a token, shows its secret once and it works through the proxy",
        async () => {
          await page.goto(`${base}/admin/tokens`);
          await hydrated(page);
          await page.click("text=New token");
          await page.fill("#new-token-name", "browser test");
          await page.fill("#new-token-models", "gemini-2.5-*");
          await page.fill("#new-token-rpm", "100");
          await page.click("text=Create token");
          await page.waitForSelector("[data-issued]");
          secret = await page.inputValue("#issued-secret");
          assert(secret.startsWith("gp-"), secret);
          const used = await generate(h, secret, "from the browser test");
          assertEquals(used.status, 200);
          await page.click("text=Done");
          await page.reload();
          await hydrated(page);
          await page.waitForSelector("tr[data-token] >> text=browser test");
          await assertNoSecrets(page, [secret, TOKEN]);
          await screenshot(page, "tokens");
        },
      );

      await t.step("the request appears in the logs live, with its attempts", async () => {
        await page.goto(`${base}/admin/logs`);
        await hydrated(page);
        await page.click("text=Live tail");
        await page.waitForSelector("text=Live tail on");
        const before = await page.locator("tr[data-log]").count();
        assertEquals((await generate(h, secret, "watch me in the logs")).status, 200);
        await page.waitForSelector("tr.fresh[data-log]");
        assertEquals(await page.locator("tr[data-log]").count(), before + 1);
        assert((await page.textContent("tr.fresh[data-log]"))?.includes("browser test"));
        await screenshot(page, "logs", true);

        await h.proxy.gateway.settle();
        const logs = await adminApi(h, "/logs?limit=100");
        const failover = logs.logs.find((l: { attempts: unknown[] }) => l.attempts.length > 1);
        assert(failover, "a request failed over");
        await page.goto(`${base}/admin/logs/${failover.id}`);
        assertEquals(await page.locator("ol.timeline li").count(), failover.attempts.length + 1);
        assertEquals(await page.locator("script[type=module]").count(), 0);
        await screenshot(page, "log-detail", true);
      });

      await t.step("the dashboard chart counts a new request live", async () => {
        await page.goto(`${base}/admin`);
        await hydrated(page);
        await page.waitForSelector(".live:not(.off)");
        const chart = 'figure[data-chart="requests"]';
        const before = Number(await page.getAttribute(chart, "data-sum"));
        assert(before >= 10, `dashboard counted ${before} requests`);
        assertEquals((await generate(h, secret, "count me on the dashboard")).status, 200);
        await page.waitForFunction(
          ([selector, n]) =>
            Number(document.querySelector(selector as string)?.getAttribute("data-sum")) >
              (n as number),
          [chart, before],
        );
        await page.waitForSelector("[data-countdown]");
        await screenshot(page, "dashboard", true);
      });

      await t.step(
        "settings: saves a value, shows forced ones read-only, ships no JS",
        async () => {
          await page.goto(`${base}/admin/settings`);
          assertEquals(await page.locator("script[type=module]").count(), 0);
          assert(await page.isDisabled("#s-upstreamUrl"), "UPSTREAM_URL is forced by the harness");
          await page.fill("#s-maxAttempts", "4");
          await page.selectOption("#s-strategy", "least_used");
          await Promise.all([page.waitForURL(/saved/), page.click("text=Save settings")]);
          const settings = await adminApi(h, "/settings");
          assertEquals([settings.effective.maxAttempts, settings.effective.strategy], [
            4,
            "least_used",
          ]);
          await screenshot(page, "settings");
        },
      );

      await t.step(
        "playground streams an answer through the proxy with a typed token",
        async () => {
          await page.goto(`${base}/admin/playground`);
          await hydrated(page);
          await page.fill("#pg-token", secret);
          await page.fill("#pg-prompt", "Say hello from the playground");
          await page.click("form[aria-label=Prompt] button[type=submit]");
          await page.waitForSelector("[data-outcome] >> text=HTTP 200");
          assert(((await page.textContent("[data-output]")) ?? "").length > 0);
          await screenshot(page, "playground");
        },
      );

      await t.step("a phone-sized screen in dark mode", async () => {
        const phone = await browser.newContext({
          viewport: { width: 390, height: 844 },
          colorScheme: "dark",
        });
        await phone.addCookies(await context.cookies());
        const small = await phone.newPage();
        await small.goto(`${base}/admin`);
        await hydrated(small);
        const width = await small.evaluate(() => document.documentElement.scrollWidth);
        assert(width <= 390, `the page is ${width} px wide`);
        await screenshot(small, "dashboard-phone-dark", true);
        await phone.close();
      });

      await t.step("deleting a key asks first, and Cancel keeps it", async () => {
        await page.goto(`${base}/admin/keys`);
        await hydrated(page);
        const before = await page.locator("tr[data-key]").count();
        const row = page.locator("tr[data-key]").last();
        await row.locator("button", { hasText: "Delete" }).click();
        await page.waitForSelector("[role=group][aria-label^='Confirm deleting']");
        await page.click("text=Cancel");
        assertEquals(await page.locator("tr[data-key]").count(), before);
        await row.locator("button", { hasText: "Delete" }).click();
        await page.click("text=Yes, delete");
        await page.waitForFunction(
          (n: number) => document.querySelectorAll("tr[data-key]").length === n,
          before - 1,
        );
      });

      await t.step("logs out", async () => {
        await Promise.all([page.waitForURL(/\/admin\/login/), page.click("text=Log out")]);
        await page.goto(`${base}/admin/keys`);
        assert(page.url().startsWith(`${base}/admin/login`), page.url());
      });
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

function generate(h: Harness, token: string, text: string): Promise<Response> {
  return fetch(`${h.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": token, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] }),
  }).then(async (r) => {
    await r.arrayBuffer();
    return r;
  });
}

// deno-lint-ignore no-explicit-any -- test reads of the admin API's JSON
async function adminApi(h: Harness, path: string): Promise<any> {
  const response = await fetch(`${h.proxy.url}/admin/api${path}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assertEquals(response.status, 200);
  return await response.json();
}

/** The rendered DOM, the server's HTML and the island props never hold a secret. */
async function assertNoSecrets(page: Page, secrets: string[]): Promise<void> {
  const dom = await page.content();
  const html = await page.evaluate(async () => await (await fetch(location.href)).text());
  for (const s of secrets) {
    assertNotIncludes(dom, s);
    assertNotIncludes(html, s);
  }
}
