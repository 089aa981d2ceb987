/**
 * The login page: one password field. Attempts are throttled per client address; a success starts
 * a new session (fresh id, signed cookie) and goes back where the admin was headed.
 * @module
 */
import { z } from "zod";
import type { ConsoleState } from "../../core/admin/console.ts";
import { sessionCookie } from "../../core/admin/session.ts";
import { timingSafeEqual } from "../../core/secrets.ts";
import type { Handlers, PageProps, RouteContext } from "../../core/web/types.ts";
import { PageTitle } from "./_components/page_title.tsx";

/** What the login page shows. */
export interface LoginData {
  /** Where to go after logging in. */
  next: string;
  /** Why the last attempt failed. */
  error?: string;
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
    return ctx.render({ next } satisfies LoginData);
  },
  async POST(ctx) {
    const { deps } = ctx.state;
    if (!sameOrigin(ctx)) return new Response("Cross-site login refused", { status: 403 });
    const form = loginForm.safeParse(Object.fromEntries(await ctx.req.formData().catch(() => [])));
    const next = safeNext(form.success ? form.data.next : null);
    const verdict = deps.throttle.attempt(ctx.state.clientAddress);
    if (!verdict.ok) {
      const seconds = Math.max(1, Math.ceil((verdict.retryAt - deps.admin.now()) / 1000));
      return ctx.render(
        { next, error: `Too many attempts: try again in ${seconds} s` } satisfies LoginData,
        { status: 429, headers: { "retry-after": String(seconds) } },
      );
    }
    const password = deps.admin.config.adminPassword ?? "";
    if (!form.success || !password || !timingSafeEqual(form.data.password, password)) {
      return ctx.render({ next, error: "Wrong password" } satisfies LoginData, { status: 401 });
    }
    deps.throttle.reset(ctx.state.clientAddress);
    const { cookie } = await deps.sessions!.issue();
    return new Response(null, {
      status: 303,
      headers: {
        location: next,
        "set-cookie": sessionCookie(cookie, ctx.req, deps.sessions!.ttlMs / 1000),
      },
    });
  },
};

/**
 * The login form.
 * @param props What to show.
 */
export default function LoginPage(props: PageProps<LoginData, ConsoleState>) {
  const { next, error } = props.data;
  return (
    <>
      <PageTitle title="Log in" />
      <div class="card">
        <h1>Gemini Proxy</h1>
        <p class="muted">
          Log in with the admin password (<code>ADMIN_PASSWORD</code>).
        </p>
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
