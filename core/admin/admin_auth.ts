import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";
import { timingSafeEqual } from "../secrets.ts";
import { readCookie, SESSION_COOKIE, type Sessions } from "./session.ts";

/** Methods that change state: a cookie session needs the CSRF token for them. */
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Options of {@linkcode adminAuth}. */
export interface AdminAuthOptions {
  /** Console sessions: when given, a valid session cookie (plus CSRF token) is accepted too. */
  sessions?: Sessions | undefined;
}

/**
 * Guards the admin JSON API. Scripts authenticate with `Authorization: Bearer <ADMIN_PASSWORD>`;
 * the console's browser uses its session cookie, and sends the session's CSRF token in
 * `x-csrf-token` with every POST, PUT, PATCH and DELETE. With no password configured the API is
 * closed.
 * @param password The configured `ADMIN_PASSWORD`, if any.
 * @param options Console sessions.
 * @returns Hono middleware.
 * @throws {HttpError} 403 when closed or when a session request lacks its CSRF token; 401 otherwise.
 */
export function adminAuth(
  password: string | undefined,
  options: AdminAuthOptions = {},
): MiddlewareHandler {
  return async function requireAdmin(c, next) {
    if (!password) {
      throw new HttpError(403, "The admin API is closed: set ADMIN_PASSWORD to open it", {
        reason: "ADMIN_DISABLED",
      });
    }
    const header = c.req.header("authorization");
    if (!header && options.sessions) {
      const session = await options.sessions.read(readCookie(c.req.raw, SESSION_COOKIE));
      if (session) {
        if (
          STATE_CHANGING.has(c.req.method) &&
          !options.sessions.checkCsrf(session, c.req.header("x-csrf-token"))
        ) {
          throw new HttpError(403, "Missing or invalid CSRF token", { reason: "ADMIN_CSRF" });
        }
        return await next();
      }
    }
    const given = header?.match(/^Bearer\s+(.+)$/i)?.[1] ?? "";
    if (!timingSafeEqual(given, password)) {
      throw new HttpError(401, "Admin authentication required", {
        reason: "ADMIN_UNAUTHENTICATED",
      });
    }
    await next();
  };
}
