/**
 * The console's frame: top bar with navigation and logout for signed-in admins, a narrow centred
 * column for the login and setup pages. When every instance of the host keeps a store of its own,
 * a banner says that changes are refused and which store to configure.
 * @module
 */
import type { ConsoleState } from "../../core/admin/console.ts";
import { unsharedStoreMessage } from "../../core/admin/unshared_store.ts";
import { Head } from "../../core/web/islands.ts";
import type { LayoutProps } from "../../core/web/types.ts";

const NAV: [string, string][] = [
  ["/admin", "Dashboard"],
  ["/admin/keys", "Keys"],
  ["/admin/tokens", "Tokens"],
  ["/admin/logs", "Logs"],
  ["/admin/playground", "Playground"],
  ["/admin/settings", "Settings"],
];

const ICON = "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M8 1l7 7-7 7-7-7z" fill="#1a66d2"/></svg>',
  );

/**
 * Wraps every console page.
 * @param props The page and request.
 */
export default function AdminLayout(props: LayoutProps<unknown, ConsoleState>) {
  const { Component, state, url } = props;
  const session = state.session;
  const unshared = state.deps.admin.unsharedStore;
  if (!session) {
    return (
      <>
        <Head>
          <link rel="icon" href={ICON} />
        </Head>
        <main class="auth" id="main">
          <Component />
        </main>
      </>
    );
  }
  // The dashboard owns only its own path: unknown pages under /admin highlight nothing.
  const current = NAV.filter(([href]) =>
    url.pathname === href || (href !== "/admin" && url.pathname.startsWith(`${href}/`))
  )
    .sort((a, b) => b[0].length - a[0].length)[0]?.[0];
  return (
    <>
      <Head>
        <meta name="csrf-token" content={session.csrf} />
        <link rel="icon" href={ICON} />
      </Head>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href="/admin">
          <span>◆</span> Gemini Proxy
        </a>
        <nav aria-label="Console">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={href === current ? "page" : undefined}>{label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <form method="post" action="/admin/logout">
          <input type="hidden" name="_csrf" value={session.csrf} />
          <button type="submit" class="btn link">Log out</button>
        </form>
      </header>
      <main id="main">
        {unshared && (
          <p class="notice warn" role="alert" data-banner="store-not-shared">
            {unsharedStoreMessage(unshared)}
          </p>
        )}
        <Component />
      </main>
    </>
  );
}
