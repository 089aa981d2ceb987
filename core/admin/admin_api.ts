/**
 * The admin JSON API under `/admin/api`: each area (tokens, keys, logs, stats) lives in its own
 * module and is mounted here behind {@linkcode adminAuth}.
 * @module
 */
import { Hono } from "hono";
import { adminAuth } from "./admin_auth.ts";
import type { AdminContext } from "./context.ts";
import { keyRoutes } from "./keys_api.ts";
import { tokenRoutes } from "./tokens_api.ts";
import { logRoutes } from "./logs_api.ts";
import { settingsRoutes } from "./settings_api.ts";
import { modelRoutes } from "./models_api.ts";
import { refuseUnsharedWrites } from "./unshared_store.ts";

/**
 * Builds the admin API.
 * @param ctx Shared state.
 * @returns A Hono app to mount at `/admin/api`.
 */
export function createAdminApi(ctx: AdminContext): Hono {
  const api = new Hono();
  // Admin answers are private and typed: no cache keeps them, no browser sniffs them.
  api.use("*", async function adminHeaders(c, next) {
    await next();
    c.res.headers.set("cache-control", "no-store");
    c.res.headers.set("x-content-type-options", "nosniff");
  });
  api.use(
    "*",
    adminAuth(ctx.config.adminPassword, {
      sessions: ctx.sessions,
      throttle: ctx.throttle,
      clientOf: ctx.clientOf,
      now: ctx.now,
    }),
  );
  api.use("*", refuseUnsharedWrites(ctx.unsharedStore));
  // Answers come from a snapshot at most a second old, as the proxy's do.
  api.use("*", async function freshSnapshot(_c, next) {
    await ctx.registry.ensureFresh();
    await next();
  });
  api.route("/keys", keyRoutes(ctx));
  api.route("/tokens", tokenRoutes(ctx));
  api.route("/models", modelRoutes(ctx));
  if (ctx.settings) api.route("/settings", settingsRoutes({ ...ctx, settings: ctx.settings }));
  api.route("/", logRoutes(ctx));
  return api;
}
