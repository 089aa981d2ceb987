/**
 * A small Fresh-style app layer on Hono and Preact, because Fresh itself (`jsr:@fresh/core`) is
 * published only on JSR. It keeps Fresh's conventions so that moving to Fresh 2 is mechanical:
 *
 * - `routes/`: file routes. A page module's default export is a Preact component rendered on the
 *   server (preact-render-to-string); its optional `handler` (`{ GET, POST, ... }` or one function)
 *   gets a context with `req`, `url`, `params`, `state`, `render(data)`, `redirect(path)`. An API
 *   module exports only `handler`. `_middleware.ts` (one handler or an array, calling
 *   `ctx.next()`), `_layout.tsx` (gets `Component`), `_404.tsx` and `[param]`/`[...rest]` segments
 *   work as in Fresh; other `_`-prefixed files and folders are private.
 * - `islands/`: the only components that ship JavaScript. A page simply renders one; while the
 *   page renders, the island is wrapped in a `<gp-island>` marker and its props are serialized
 *   (JSON only, so never pass secrets or functions). In the browser, the island's bundle calls
 *   {@linkcode bootIsland}, which hydrates each marker with `preact`'s `hydrate`. State lives in
 *   `@preact/signals`. An island must not render another island.
 * - `<Head>` adds elements to the document's head, as Fresh's does.
 * - The build (`adapters/_shared/console_build.ts`, `deno task build`) writes the manifest
 *   `routes/_manifest.gen.ts` (as Fresh 1's `fresh.gen.ts`), so nothing lists directories at run
 *   time, and bundles each island with `deno bundle --platform browser --code-splitting --minify`
 *   into content-hashed files under `static/build/`, which {@linkcode mountRoutes} serves with
 *   immutable caching. Islands are bundled with the automatic JSX runtime: the project's
 *   `precompile` transform emits server-only templates Preact cannot hydrate.
 *
 * Moving to Fresh 2: replace `Handlers`/`PageProps` imports with Fresh's `define` helpers, `Head`
 * with Fresh's, delete this folder, the manifest and the build script, and let Fresh's builder
 * take over `routes/`, `islands/` and `static/` unchanged.
 * @module
 */
export { Head, registerIslands } from "./islands.ts";
export { islandName, type MountOptions, mountRoutes, routeEntry } from "./router.ts";
export { type DocumentOptions, renderDocument } from "./render.ts";
export { bootIsland } from "./client.ts";
export { type AssetReader, createSiteAssets } from "./site_assets.ts";
export type {
  AssetFile,
  HandlerFn,
  Handlers,
  LayoutProps,
  Manifest,
  PageProps,
  RenderOptions,
  RouteContext,
  RouteModule,
  SiteAssets,
} from "./types.ts";
