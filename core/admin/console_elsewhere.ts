/**
 * What `/admin` answers on hosts that serve no admin console (Cloudflare Workers, Vercel Edge
 * Functions): where the console runs instead. Browsers get a small HTML page, other clients
 * Google's error envelope with a `google.rpc.Help` link; both `404`, since the console is not
 * here. The admin JSON API (`/admin/api/...`) is served as usual.
 * @module
 */
import { HttpError } from "../errors.ts";

/** Options of {@linkcode consoleElsewhere}. */
export interface ConsoleElsewhereOptions {
  /** The host's name as users know it, e.g. `Cloudflare Worker`. */
  host: string;
  /** Where the console runs (`CONSOLE_URL`), when known. */
  consoleUrl?: string | undefined;
}

/** How to run the console against the store this host shares. */
const RUN_IT = "STORE=supabase deno task start";

/**
 * Answers a request for a console page on a host that serves none.
 * @param request The request (its `Accept` header picks HTML or JSON).
 * @param options The host's name and the console's URL.
 * @returns A 404 page or envelope saying where the console runs.
 */
export function consoleElsewhere(request: Request, options: ConsoleElsewhereOptions): Response {
  const { host, consoleUrl } = options;
  const where = consoleUrl
    ? `open it at ${consoleUrl}`
    : `run it against the same store with \`${RUN_IT}\` (with the same SUPABASE_URL, ` +
      "SUPABASE_SERVICE_ROLE_KEY and SECRET_KEY), or set CONSOLE_URL to link to it";
  if ((request.headers.get("accept") ?? "").includes("text/html")) {
    return new Response(page(host, consoleUrl), {
      status: 404,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      },
    });
  }
  return new HttpError(
    404,
    `This ${host} serves no admin console: ${where}; the admin JSON API is at /admin/api`,
    {
      reason: "CONSOLE_ELSEWHERE",
      ...(consoleUrl
        ? {
          details: [{
            "@type": "type.googleapis.com/google.rpc.Help",
            links: [{ description: "Gemini Proxy admin console", url: consoleUrl }],
          }],
        }
        : {}),
    },
  ).toResponse();
}

function page(host: string, consoleUrl: string | undefined): string {
  const where = consoleUrl
    ? `<p>It runs at <a href="${escape(consoleUrl)}">${escape(consoleUrl)}</a>.</p>`
    : `<p>Run it against the store this deployment uses, e.g. on your machine:</p>` +
      `<pre>STORE=supabase SUPABASE_URL=... SUPABASE_SERVICE_ROLE_KEY=... SECRET_KEY=... ` +
      `ADMIN_PASSWORD=... ${escape(RUN_IT.replace("STORE=supabase ", ""))}</pre>` +
      `<p>Set <code>CONSOLE_URL</code> on this deployment to link to it from here.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Gemini Proxy: admin console</title></head>
<body><h1>The admin console is not served here</h1>
<p>This ${
    escape(host)
  } serves the proxy and the admin JSON API (<code>/admin/api</code>), not the console's pages.</p>
${where}
</body></html>
`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
