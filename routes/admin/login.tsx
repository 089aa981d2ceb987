/**
 * The login page: one password field. Attempts go through the sign-in throttle (shared with
 * Bearer calls of the admin API); a success starts a new session (fresh id, signed cookie) and goes
 * back where the admin was headed. When the browser would drop the session cookie (it is `Secure`
 * but the page came over plain HTTP), the page says so and what to do.
 * @module
 */
import { z } from "zod";
import type { ConsoleState } from "../../core/admin/console.ts";
import { retryAfterSeconds } from "../../core/admin/admin_auth.ts";
import { cookieDropped, sessionCookie } from "../../core/admin/session.ts";
import { timingSafeEqual } from "../../core/secrets/secrets.ts";
import type { Handlers, PageProps, RouteContext } from "../../core/web/types.ts";
import { PageTitle } from "./_components/page_title.tsx";

/** What the login page shows. */
export interface LoginData {
  /** Where to go after logging in. */
  next: string;
  /** Why the last attempt failed. */
  error?: string;
  /** Set when the session cookie is `Secure` but the page came over plain HTTP. */
  plainHttp?: "auto" | "always";
}

const loginForm = z.object({
  password: z.string().max(1024).default(""),
  next: z.string().max(2048).optional(),
});

/** `GET` shows the form (or goes on when already logged in); `POST` checks the password. */
export const handler: Handlers<ConsoleState> = {
  GET(ctx) {
    const next = safeNext(ctx.url.searchParams.get("next"));
    if (ctx.state.session) return ctx.redirect(next);
    return ctx.render({ next, ...plainHttp(ctx) } satisfies LoginData);
  },
  async POST(ctx) {
    const { deps } = ctx.state;
    if (!sameOrigin(ctx)) return new Response("Cross-site login refused", { status: 403 });
    const form = loginForm.safeParse(Object.fromEntries(await ctx.req.formData().catch(() => [])));
    const next = safeNext(form.success ? form.data.next : null);
    const password = deps.admin.config.adminPassword ?? "";
    const verdict = await deps.admin.throttle.check(
      "admin",
      ctx.state.clientAddress,
      () => form.success && password !== "" && timingSafeEqual(form.data.password, password),
    );
    if (verdict.result === "throttled") {
      const seconds = retryAfterSeconds(verdict.retryAt, deps.admin.now());
      return ctx.render(
        { next, error: `Too many attempts: try again in ${seconds} s`, ...plainHttp(ctx) },
        { status: 429, headers: { "retry-after": String(seconds) } },
      );
    }
    if (verdict.result === "refused") {
      return ctx.render({ next, error: "Wrong password", ...plainHttp(ctx) } satisfies LoginData, {
        status: 401,
      });
    }
    const { cookie } = await deps.sessions!.issue();
    const secure = deps.admin.config.cookieSecure;
    return new Response(null, {
      status: 303,
      headers: {
        location: next,
        "set-cookie": sessionCookie(cookie, ctx.req, {
          maxAgeSeconds: deps.sessions!.ttlMs / 1000,
          secure,
        }),
      },
    });
  },
};

/** The warning's part of the page data, when the browser would drop the session cookie. */
function plainHttp(ctx: RouteContext<ConsoleState>): Pick<LoginData, "plainHttp"> {
  const mode = ctx.state.deps.admin.config.cookieSecure;
  return mode !== "never" && cookieDropped(ctx.req, mode) ? { plainHttp: mode } : {};
}

/**
 * The login form.
 * @param props What to show.
 */
export default function LoginPage(props: PageProps<LoginData, ConsoleState>) {
  const { next, error, plainHttp } = props.data;
  return (
    <>
      <PageTitle title="Log in" />
      <div class="card">
        <h1>Gemini Proxy</h1>
        <p class="muted">
          Log in with the admin password (<code>ADMIN_PASSWORD</code>).
        </p>
        {plainHttp && <PlainHttpWarning mode={plainHttp} />}
        {error && <p class="notice bad" role="alert">{error}</p>}
        <form method="post" action="/admin/login">
          <input type="hidden" name="next" value={next} />
          <div class="field">
            <label for="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              autofocus
            />
          </div>
          <button type="submit" class="btn primary">Log in</button>
        </form>
      </div>
    </>
  );
}

/**
 * Why logging in will not stick over plain HTTP, and the three ways out.
 * @param props The `COOKIE_SECURE` mode that makes the cookie `Secure`.
 */
function PlainHttpWarning(props: { mode: "auto" | "always" }) {
  return (
    <div class="notice warn" id="plain-http-warning" role="status">
      <p>
        <strong>This page came over plain HTTP, so logging in will not work here.</strong>{" "}
        The session cookie is marked <code>Secure</code>{" "}
        (<code>COOKIE_SECURE={props.mode}</code>), and browsers keep such cookies only over HTTPS:
        after a correct password you would land back on this page.
      </p>
      <p>Do one of these:</p>
      <ul>
        <li>Serve the console over HTTPS (for example behind a reverse proxy with TLS).</li>
        <li>
          Open it on the server itself, or through an SSH tunnel:{" "}
          <code>ssh -L 8000:127.0.0.1:8000 you@server</code>, then{" "}
          <code>http://localhost:8000/admin</code>.
        </li>
        <li>
          On a network you trust, set <code>COOKIE_SECURE=never</code>{" "}
          and restart: the session cookie then also travels over plain HTTP, unencrypted.
        </li>
      </ul>
    </div>
  );
}

/** A console path to go to after login; anything else becomes `/admin`. */
function safeNext(next: string | null | undefined): string {
  return next && /^\/admin(\/[^\\]*)?(\?.*)?$/.test(next) && !next.startsWith("//")
    ? next
    : "/admin";
}

/** Refuses logins posted from another site (the Origin header, when the browser sends it). */
function sameOrigin(ctx: RouteContext<ConsoleState>): boolean {
  const origin = ctx.req.headers.get("origin");
  if (!origin || origin === "null") return origin === null;
  try {
    const host = new URL(origin).host;
    const forwarded = ctx.req.headers.get("x-forwarded-host");
    return host === ctx.url.host || host === ctx.req.headers.get("host") || host === forwarded;
  } catch {
    return false;
  }
}
