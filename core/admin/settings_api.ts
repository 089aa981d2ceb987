/**
 * Admin API for runtime settings: read the effective, saved and default values (and which are
 * forced by the environment), and change them.
 * @module
 */
import { Hono } from "hono";
import { PRICE_SOURCES, PRICES_SOURCE, PRICES_TAKEN_ON } from "../cost/mod.ts";
import { type Settings, settingsPatchSchema } from "../config/mod.ts";
import type { AdminContext } from "./context.ts";
import { parseJson } from "./validate.ts";

/**
 * The settings as the admin API shows them.
 * @param settings The app's settings.
 */
export function settingsView(settings: Settings) {
  return {
    effective: settings.current,
    stored: settings.stored,
    defaults: settings.defaults,
    forced: settings.forced,
    /**
     * Where the built-in prices (`defaults.prices`) come from: Google's page, the day of the
     * newest copy of it they were read from, and each model's dated sources.
     */
    pricesSource: { url: PRICES_SOURCE, takenOn: PRICES_TAKEN_ON, models: PRICE_SOURCES },
  };
}

/**
 * Routes for `/admin/api/settings`: `GET` reads, `PATCH` changes (`null` returns a setting to its
 * default; a setting forced by the environment answers 409).
 * @param ctx Shared state; `ctx.settings` must be set.
 * @returns A Hono app to mount at `/admin/api/settings`.
 */
export function settingsRoutes(ctx: AdminContext & { settings: Settings }): Hono {
  const api = new Hono();
  api.get("/", (c) => c.json(settingsView(ctx.settings)));
  api.patch("/", async (c) => {
    const patch = await parseJson(c.req.raw, settingsPatchSchema);
    await ctx.settings.save(patch);
    return c.json(settingsView(ctx.settings));
  });
  return api;
}
