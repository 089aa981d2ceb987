/**
 * Shared set-up of the browser tests: headless Debian Chromium driven by playwright-core, the
 * console's assets built once, and screenshot helpers.
 * @module
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { buildConsole } from "../../adapters/_shared/console_build.ts";

/** Debian's Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed; browser tests are skipped (with a message) when it is not. */
export const HAS_CHROMIUM = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!HAS_CHROMIUM) {
  console.warn(
    `Browser tests skipped: ${CHROMIUM} is missing (install it with \`apt-get install -y chromium\`)`,
  );
}

const ROOT = new URL("../../", import.meta.url);
/** Where every run saves its screenshots (ignored by git). */
export const SCREENSHOTS = new URL("test-results/screenshots/", ROOT);
/** Screenshots the README shows, refreshed by runs with `UPDATE_SCREENSHOTS=1`. */
export const DOC_SCREENSHOTS = new URL("docs/screenshots/", ROOT);

/**
 * Launches headless Chromium with the flags this environment needs.
 * @param extraArgs More command-line flags, e.g. `--host-resolver-rules=MAP lan.test 127.0.0.1`.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}

/** Builds the console's assets when `deno task build` has not (e.g. a bare `deno test`). */
export async function ensureBuilt(): Promise<void> {
  const built = await Deno.stat(new URL("static/build/manifest.json", ROOT)).then(
    () => true,
    () => false,
  );
  if (!built) await buildConsole();
}

/**
 * Saves a full-page screenshot under `test-results/screenshots/`, and under `docs/screenshots/`
 * too when `UPDATE_SCREENSHOTS=1` and `forDocs` is set.
 * @param page The page.
 * @param name File name without extension.
 * @param forDocs Whether the README uses it.
 */
export async function screenshot(page: Page, name: string, forDocs = false): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  // From the top: the sticky top bar would otherwise sit in the middle of a full-page shot.
  await page.evaluate(() => scrollTo(0, 0));
  const bytes = await page.screenshot({ fullPage: true, animations: "disabled" });
  await Deno.writeFile(new URL(`${name}.png`, SCREENSHOTS), bytes);
  if (forDocs && Deno.env.get("UPDATE_SCREENSHOTS") === "1") {
    await Deno.mkdir(DOC_SCREENSHOTS, { recursive: true });
    await Deno.writeFile(new URL(`${name}.png`, DOC_SCREENSHOTS), bytes);
  }
}

/**
 * Waits until the page's islands have hydrated (they set `data-hydrated` on `<html>`).
 * @param page The page.
 */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForSelector("html[data-hydrated]", { state: "attached" });
}

/**
 * Fails when a page scrolls sideways at a phone's 390 px.
 * @param page The page, in a 390 px wide context.
 * @param path What it shows, for the message.
 */
export async function noSideways(page: Page, path: string): Promise<void> {
  const widths = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    view: innerWidth,
  }));
  if (widths.doc > 390 || widths.body > 390) {
    throw new Error(`${path} scrolls sideways: ${JSON.stringify(widths)}`);
  }
}

/**
 * A 390 x 844 phone context sharing another context's cookies (its session).
 * @param browser The browser.
 * @param from The context logged in.
 */
export async function phoneContext(
  browser: Browser,
  from: BrowserContext,
): Promise<BrowserContext> {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await phone.addCookies(await from.cookies());
  return phone;
}

/** A chart's y axis as the page drew it: its width, its widest label's, and the labels. */
export interface ChartAxis {
  chart: string | null | undefined;
  axis: number;
  label: number;
  labels: string[];
}

/**
 * The y axes of the page's drawn charts (see `noteAxis` in `islands/_shared/chart.tsx`).
 * @param page The page.
 */
export function chartAxes(page: Page): Promise<ChartAxis[]> {
  return page.$$eval(".chart-area[data-y-axis-px]", (els) =>
    els.map((el) => {
      const data = (el as HTMLElement).dataset;
      return {
        chart: el.closest("figure")?.getAttribute("data-chart"),
        axis: Number(data.yAxisPx),
        label: Number(data.yLabelPx),
        labels: (data.yLabels ?? "").split("|").filter(Boolean),
      };
    }));
}
