import type { Context, MiddlewareHandler } from "hono";
import { HttpError, retryInfo } from "../errors.ts";
import { timingSafeEqual } from "../secrets/mod.ts";
import type { AuthRealm, AuthThrottle } from "./auth_throttle.ts";
import type { ClientOf } from "../proxy/mod.ts";
import { throttleAddress } from "./client_address.ts";
import { readCookie, SESSION_COOKIE, type Sessions } from "./session.ts";

/** Methods that change state: a cookie session needs the CSRF token for them. */
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The `env` the console's pages pass when they call the admin API in process (after checking
 * the session themselves). Only code in this process holds it: a client's request reaches Hono
 * with the platform's connection info as `env`, never with this object.
 */
export const IN_PROCESS_ENV: Readonly<Record<string, never>> = Object.freeze({});

/** Options of {@linkcode adminAuth}. */
export interface AdminAuthOptions {
  /** Console sessions: when given, a valid session cookie (plus CSRF token) is accepted too. */
  sessions?: Sessions | undefined;
  /** Counts wrong passwords per client address and in total, shared through the store. */
  throttle: AuthThrottle;
  /** The client address a request counts under (the one request logs record). */
  clientOf: ClientOf;
  /** Clock (epoch ms), for `Retry-After`. */
  now: () => number;
}

/**
 * Guards the admin JSON API. Scripts authenticate with `Authorization: Bearer <ADMIN_PASSWORD>`;
 * the console's browser uses its session cookie, and sends the session's CSRF token in
 * `x-csrf-token` with every POST, PUT, PATCH and DELETE. A presented password goes through the
 * sign-in throttle the login form uses too. With no password configured the API is closed.
 * @param password The configured `ADMIN_PASSWORD`, if any.
 * @param options Console sessions, the throttle and the clock.
 * @returns Hono middleware.
 * @throws {HttpError} 403 when closed or when a session request lacks its CSRF token; 429 with
 *   `Retry-After` while the client (or every client) is locked out; 401 otherwise.
 */
export function adminAuth(
  password: string | undefined,
  options: AdminAuthOptions,
): MiddlewareHandler {
  return async function requireAdmin(c, next) {
    if (!password) {
      throw new HttpError(403, "The admin API is closed: set ADMIN_PASSWORD to open it", {
        reason: "ADMIN_DISABLED",
      });
    }
    if (c.env === IN_PROCESS_ENV) return await next();
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
    const unauthenticated = new HttpError(401, "Admin authentication required", {
      reason: "ADMIN_UNAUTHENTICATED",
    });
    await checkBearer(c, { realm: "admin", secret: password, unauthenticated, ...options });
    await next();
  };
}

/** Options of {@linkcode checkBearer}. */
export interface CheckBearerOptions {
  /** What the secret guards. */
  realm: AuthRealm;
  /** The configured secret. */
  secret: string;
  /** Thrown when the bearer is missing or wrong. */
  unauthenticated: HttpError;
  /** The sign-in throttle. */
  throttle: AuthThrottle;
  /** The client address a request counts under. */
  clientOf: ClientOf;
  /** Clock (epoch ms). */
  now: () => number;
}

/**
 * Checks `Authorization: Bearer <secret>` under the sign-in throttle. A request without a bearer
 * is refused without counting (it guessed nothing).
 * @param c The request context (`clientOf` names its client).
 * @param options Realm, secret, error and throttle.
 * @throws {HttpError} 429 with `Retry-After` while locked out, else `unauthenticated` when wrong.
 */
export async function checkBearer(c: Context, options: CheckBearerOptions): Promise<void> {
  const given = c.req.header("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1] ?? "";
  if (!given) throw options.unauthenticated;
  const verdict = await options.throttle.check(
    options.realm,
    throttleAddress(options.clientOf(c.req.raw, c.env)),
    () => timingSafeEqual(given, options.secret),
  );
  if (verdict.result === "accepted") return;
  if (verdict.result === "refused") throw options.unauthenticated;
  throw throttledError(options.realm, retryAfterSeconds(verdict.retryAt, options.now()));
}

/**
 * Seconds until a throttled client may try again, for `Retry-After` (at least 1).
 * @param retryAt When (epoch ms).
 * @param now Now (epoch ms).
 */
export function retryAfterSeconds(retryAt: number, now: number): number {
  return Math.max(1, Math.ceil((retryAt - now) / 1000));
}

function throttledError(realm: AuthRealm, seconds: number): HttpError {
  const what = realm === "admin" ? "admin password" : "metrics token";
  return new HttpError(429, `Too many wrong attempts at the ${what}: try again in ${seconds} s`, {
    reason: realm === "admin" ? "ADMIN_AUTH_THROTTLED" : "METRICS_AUTH_THROTTLED",
    details: [retryInfo(seconds)],
    headers: { "retry-after": String(seconds) },
  });
}
