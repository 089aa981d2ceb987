/**
 * Guards every console page: security headers on every answer; the setup page while
 * `ADMIN_PASSWORD` is unset; a valid session everywhere but the login page; and the session's CSRF
 * token (form field `_csrf` or header `x-csrf-token`) on every state change.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import { readCookie, SESSION_COOKIE } from "../../core/admin/session.ts";
import { HttpError } from "../../core/errors.ts";
import type { HandlerFn, RouteContext } from "../../core/web/types.ts";
import SetupPage from "./_components/setup_page.tsx";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const PUBLIC_PATHS = new Set(["/admin/login"]);

/** Headers every console answer carries. */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' " +
    "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

/** Security headers, then the session and CSRF checks. */
export const handler: HandlerFn<ConsoleState>[] = [securityHeaders, requireSession];

async function securityHeaders(ctx: RouteContext<ConsoleState>): Promise<Response> {
  const response = await ctx.next();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!response.headers.has(name)) response.headers.set(name, value);
  }
  return response;
}

async function requireSession(ctx: RouteContext<ConsoleState>): Promise<Response> {
  if (ctx.url.pathname.startsWith("/admin/api/")) throw new HttpError(404, "Not found");
  const sessions = ctx.state.deps.sessions;
  if (!sessions) return ctx.render(undefined, { page: SetupPage, status: 403 });
  const session = await sessions.read(readCookie(ctx.req, SESSION_COOKIE));
  ctx.state.session = session;
  if (PUBLIC_PATHS.has(ctx.url.pathname)) return ctx.next();
  if (!session) {
    if (ctx.req.method === "GET" || ctx.req.method === "HEAD") {
      return ctx.redirect(
        `/admin/login?next=${encodeURIComponent(ctx.url.pathname + ctx.url.search)}`,
      );
    }
    return text(401, "Your session has ended: log in again");
  }
  if (STATE_CHANGING.has(ctx.req.method)) {
    const token = ctx.req.headers.get("x-csrf-token") ?? await formField(ctx.req, "_csrf");
    if (!sessions.checkCsrf(session, token)) return text(403, "Missing or invalid CSRF token");
  }
  return ctx.next();
}

async function formField(request: Request, name: string): Promise<string | null> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/.test(type)) return null;
  try {
    const value = (await request.clone().formData()).get(name);
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}

function text(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
