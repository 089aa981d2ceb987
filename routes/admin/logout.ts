/**
 * Ends the session: revokes it in this process and clears the cookie (the CSRF token was checked
 * by the middleware).
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import { sessionCookie } from "../../core/admin/session.ts";
import type { Handlers } from "../../core/web/types.ts";

/** `POST`: logs out. */
export const handler: Handlers<ConsoleState> = {
  POST(ctx) {
    const { session, deps } = ctx.state;
    if (session) deps.sessions?.revoke(session);
    return new Response(null, {
      status: 303,
      headers: {
        location: "/admin/login",
        "set-cookie": sessionCookie("", ctx.req, {
          maxAgeSeconds: 0,
          secure: deps.admin.config.cookieSecure,
        }),
      },
    });
  },
};
