import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";
import { timingSafeEqual } from "../secrets.ts";

/**
 * Guards the admin JSON API. Scripts authenticate with `Authorization: Bearer <ADMIN_PASSWORD>`;
 * with no password configured the API is closed.
 * @param password The configured `ADMIN_PASSWORD`, if any.
 * @returns Hono middleware.
 */
export function adminAuth(password: string | undefined): MiddlewareHandler {
  return async function requireAdmin(c, next) {
    if (!password) {
      throw new HttpError(403, "The admin API is closed: set ADMIN_PASSWORD to open it", {
        reason: "ADMIN_DISABLED",
      });
    }
    const given = c.req.header("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1] ?? "";
    if (!timingSafeEqual(given, password)) {
      throw new HttpError(401, "Admin authentication required", {
        reason: "ADMIN_UNAUTHENTICATED",
      });
    }
    await next();
  };
}
