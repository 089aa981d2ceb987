/**
 * The console over plain HTTP on a LAN name, in headless Chromium: `lan.test` resolves to the
 * proxy's 127.0.0.1 socket (`--host-resolver-rules`), so the browser treats the page as another
 * machine's plain-HTTP origin. With `COOKIE_SECURE=auto` the login page says why logging in will
 * not stick and what to do (and indeed the browser drops the `Secure` cookie), while localhost
 * keeps working; with `COOKIE_SECURE=never` the login works over plain HTTP.
 * @module
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { assert, assertEquals } from "../support/assert.ts";
import { type Harness, startHarness } from "../support/harness.ts";
import {
  ensureBuilt,
  HAS_CHROMIUM,
  hydrated,
  launchChromium,
  screenshot,
} from "../support/browser.ts";

const ADMIN = "plain-http-admin-password";
const LAN_HOST = "lan.test";

interface Session {
  h: Harness;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** `http://lan.test:<port>`. */
  lan: string;
}

async function withBrowser(cookieSecure: string, fn: (s: Session) => Promise<void>) {
  await ensureBuilt();
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN, COOKIE_SECURE: cookieSecure } });
  const browser = await launchChromium([`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`]);
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const lan = `http://${LAN_HOST}:${new URL(h.proxy.url).port}`;
    await fn({ h, browser, context, page, lan });
  } finally {
    await browser.close();
    await h.close();
  }
}

/** Submits the password and waits for the answer to the POST and the page it leads to. */
async function submit(page: Page, password: string): Promise<number> {
  await page.fill("#password", password);
  const [response] = await Promise.all([
    page.waitForResponse((r) =>
      r.url().endsWith("/admin/login") && r.request().method() === "POST"
    ),
    page.click("button[type=submit]"),
  ]);
  await page.waitForLoadState("load");
  return response.status();
}

Deno.test({
  name: "COOKIE_SECURE=auto over plain HTTP on a LAN name: the login page explains what to do",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowser("auto", async ({ page, context, lan, h }) => {
      await page.goto(`${lan}/admin`);
      assert(page.url().startsWith(`${lan}/admin/login`), page.url());
      const warning = page.locator("#plain-http-warning");
      assert(await warning.isVisible(), "the warning shows before any attempt");
      const text = (await warning.textContent()) ?? "";
      for (const hint of ["plain HTTP", "HTTPS", "ssh -L", "localhost", "COOKIE_SECURE=never"]) {
        assert(text.includes(hint), `the warning mentions ${hint}: ${text}`);
      }
      await screenshot(page, "login-plain-http");

      assertEquals(await submit(page, ADMIN), 303, "the password is right");
      assert(page.url().startsWith(`${lan}/admin/login`), "the browser dropped the cookie");
      assert(await page.locator("#plain-http-warning").isVisible(), "and the page says why");
      assertEquals((await context.cookies()).filter((c) => c.name === "gp_admin"), []);

      // The same server on its loopback address: no warning, and the login sticks.
      await page.goto(`${h.proxy.url}/admin`);
      assertEquals(await page.locator("#plain-http-warning").count(), 0);
      await Promise.all([page.waitForURL(`${h.proxy.url}/admin`), submit(page, ADMIN)]);
      await hydrated(page);
    }),
});

Deno.test({
  name: "COOKIE_SECURE=never: the console logs in over plain HTTP on a LAN name",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowser("never", async ({ page, context, lan }) => {
      await page.goto(`${lan}/admin`);
      assert(page.url().startsWith(`${lan}/admin/login`), page.url());
      assertEquals(await page.locator("#plain-http-warning").count(), 0);
      await Promise.all([page.waitForURL(`${lan}/admin`), submit(page, ADMIN)]);
      await hydrated(page);
      const session = (await context.cookies()).find((c) => c.name === "gp_admin");
      assert(session && !session.secure && session.httpOnly, JSON.stringify(session));
      await page.goto(`${lan}/admin/keys`);
      assertEquals(new URL(page.url()).pathname, "/admin/keys", "the session holds");
    }),
});
