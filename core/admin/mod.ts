/**
 * The admin side: the JSON API under `/admin/api`, the console's pages (Fresh-style routes in
 * `routes/`, on `core/web/`), sign-in sessions and the throttle on wrong passwords.
 *
 * - {@linkcode createAdminApi}: keys, tokens, logs, models, settings and dashboard endpoints.
 * - {@linkcode mountConsole}: the console's routes and built assets.
 * - {@linkcode createSessions}, {@linkcode checkBearer}, {@linkcode createAuthThrottle}: who may
 *   use them.
 * - {@linkcode consoleElsewhere}: what hosts without the console answer on `/admin`.
 * - {@linkcode UnsharedStore}: admin writes refused where the store is not shared.
 * @module
 */
export { createAdminApi } from "./admin_api.ts";
export {
  adminAuth,
  checkBearer,
  type CheckBearerOptions,
  retryAfterSeconds,
} from "./admin_auth.ts";
export {
  type AuthRealm,
  type AuthThrottle,
  type AuthThrottleOptions,
  type AuthVerdict,
  createAuthThrottle,
} from "./auth_throttle.ts";
export {
  ASSETS_PATH,
  type ConsoleDeps,
  type ConsoleOptions,
  type ConsoleState,
  mountConsole,
} from "./console.ts";
export { consoleElsewhere, type ConsoleElsewhereOptions } from "./console_elsewhere.ts";
export type { AdminContext } from "./context.ts";
export {
  cookieDropped,
  createSessions,
  readCookie,
  type Session,
  SESSION_COOKIE,
  sessionCookie,
  type SessionOptions,
  type Sessions,
} from "./session.ts";
export {
  refuseUnsharedWrites,
  type UnsharedStore,
  unsharedStoreError,
  unsharedStoreMessage,
} from "./unshared_store.ts";
