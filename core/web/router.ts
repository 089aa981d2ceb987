/**
 * Turns the generated manifest into Hono routes, with Fresh's file conventions:
 *
 * - `routes/a/b.tsx` serves `/a/b`; `index.tsx` serves its folder; `[id].tsx` is a parameter and
 *   `[...rest].tsx` matches the rest of the path.
 * - A page module's default export is rendered (with `handler.GET` first, when given); a module
 *   with only `handler` is an API route.
 * - `_middleware.ts` runs for every route in its folder and below (outermost first), `_layout.tsx`
 *   wraps every page in its folder and below, `_404.tsx` answers unknown paths under its folder.
 * - Built assets are served under `assetsPath` with immutable caching.
 * @module
 */
import type { Context, Hono } from "hono";
import { type ComponentType, h, type VNode } from "preact";
import { registerIslands } from "./islands.ts";
import { renderDocument } from "./render.ts";
import type {
  HandlerFn,
  Handlers,
  LayoutModule,
  Manifest,
  MiddlewareModule,
  PageProps,
  RenderOptions,
  RouteContext,
  RouteModule,
  SiteAssets,
} from "./types.ts";

/** Options of {@linkcode mountRoutes}. */
export interface MountOptions<State> {
  /** Builds each request's fresh state object. */
  state: (c: Context) => State;
  /** Built assets (null: pages render without styles and scripts). */
  assets: SiteAssets | null;
  /** URL path the built assets are served under, e.g. `/admin/assets`. */
  assetsPath: string;
}

/** A route as derived from a file path. */
export interface RouteEntry {
  /** Hono path pattern, e.g. `/admin/logs/:id`. */
  pattern: string;
  /** Folder of the file, relative to `routes/`, e.g. `admin/logs`. */
  dir: string;
  /** The module. */
  module: RouteModule;
  /** Whether it is a folder's `_404`. */
  notFound: boolean;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = typeof METHODS[number];

/**
 * Registers every route of a manifest on a Hono app (call it before any catch-all route).
 * @param app The Hono app.
 * @param manifest The generated manifest.
 * @param options Per-request state, assets and their URL path.
 * @example
 * ```ts
 * mountRoutes(app, manifest, { state: () => ({}), assets, assetsPath: "/admin/assets" });
 * ```
 */
export function mountRoutes<State>(
  app: Hono,
  manifest: Manifest,
  options: MountOptions<State>,
): void {
  const islands: Record<string, ComponentType> = {};
  for (const [path, module] of Object.entries(manifest.islands)) {
    islands[islandName(path)] = module.default;
  }
  registerIslands(islands);

  const middlewares = new Map<string, HandlerFn<State>[]>();
  const layouts = new Map<string, LayoutModule["default"]>();
  const routes: RouteEntry[] = [];
  for (const [path, module] of Object.entries(manifest.routes)) {
    const { dir, name } = splitPath(path);
    if (name === "_middleware") {
      const handler = (module as MiddlewareModule).handler;
      middlewares.set(dir, Array.isArray(handler) ? handler : [handler]);
    } else if (name === "_layout") {
      layouts.set(dir, (module as LayoutModule).default);
    } else {
      const entry = routeEntry(path, module as RouteModule);
      if (entry) routes.push(entry);
    }
  }

  app.get(`${options.assetsPath}/:file`, async (c) => {
    const file = c.req.param("file");
    const found = /^[\w.-]+$/.test(file) ? await options.assets?.get(file) : null;
    if (!found) return c.body("Not found", 404, { "content-type": "text/plain" });
    return c.body(found.body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": found.contentType,
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    });
  });

  for (const route of sortRoutes(routes)) {
    const chain = ancestors(route.dir).flatMap((d) => middlewares.get(d) ?? []);
    const wrapping = ancestors(route.dir).map((d) => layouts.get(d)).filter((l) => l !== undefined)
      .reverse();
    const serve = function routeHandler(c: Context): Promise<Response> {
      return handle(c, { route, chain, wrapping, options });
    };
    app.all(route.pattern, serve);
    if (route.pattern.endsWith("/*")) app.all(route.pattern.slice(0, -2), serve);
  }
}

/**
 * The route a manifest entry serves, or null for files the router ignores (`_`-prefixed).
 * @param path Manifest key, e.g. `./routes/admin/logs/[id].tsx`.
 * @param module The module.
 */
export function routeEntry(path: string, module: RouteModule): RouteEntry | null {
  const { dir, name } = splitPath(path);
  const segments = dir ? dir.split("/") : [];
  if (segments.some((s) => s.startsWith("_"))) return null;
  if (name === "_404") {
    return {
      pattern: `/${segments.map(segment).join("/")}/*`.replace(/^\/\//, "/"),
      dir,
      module,
      notFound: true,
    };
  }
  if (name.startsWith("_")) return null;
  if (name !== "index") segments.push(name);
  return { pattern: `/${segments.map(segment).join("/")}`, dir, module, notFound: false };
}

/** Runs a route: its middleware chain, then its handler or page, inside its layouts. */
async function handle<State>(
  c: Context,
  served: {
    route: RouteEntry;
    chain: HandlerFn<State>[];
    wrapping: LayoutModule["default"][];
    options: MountOptions<State>;
  },
): Promise<Response> {
  const { route, chain, wrapping, options } = served;
  const req = c.req.raw;
  const url = new URL(req.url);
  const params = route.notFound ? {} : c.req.param() as Record<string, string>;
  const method = (req.method === "HEAD" ? "GET" : req.method) as Method;
  let index = 0;
  const ctx: RouteContext<State> = {
    req,
    url,
    params,
    state: options.state(c),
    render(data?: unknown, renderOptions: RenderOptions = {}) {
      const page = renderOptions.page ?? route.module.default;
      if (!page) throw new Error(`Route ${route.pattern} has no page to render`);
      const props: PageProps<unknown, State> = { url, params, data, state: ctx.state };
      // deno-lint-ignore no-explicit-any -- pages and layouts take differently typed props
      let tree: VNode<any> = h(page, props);
      for (const layout of wrapping) {
        const inner = tree;
        tree = h(layout, { ...props, Component: () => inner });
      }
      const html = renderDocument(tree, { assets: options.assets });
      return Promise.resolve(
        new Response(html, {
          status: renderOptions.status ?? (route.notFound ? 404 : 200),
          headers: { "content-type": "text/html; charset=utf-8", ...renderOptions.headers },
        }),
      );
    },
    next() {
      const middleware = chain[index++];
      if (middleware) return Promise.resolve(middleware(ctx));
      return Promise.resolve(endpoint(ctx, route.module, method));
    },
    redirect(path: string, status = 303) {
      if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) {
        throw new Error(`Refusing to redirect off-site to "${path}"`);
      }
      return new Response(null, { status, headers: { location: path } });
    },
  };
  return await ctx.next();
}

function endpoint<State>(
  ctx: RouteContext<State>,
  module: RouteModule,
  method: Method,
): Response | Promise<Response> {
  const handler = module.handler;
  if (typeof handler === "function") return handler(ctx);
  const fn = (handler as Handlers<State> | undefined)?.[method];
  if (fn) return fn(ctx);
  if (method === "GET" && module.default) return ctx.render();
  const allowed = METHODS.filter((m) => (handler as Handlers<State> | undefined)?.[m]);
  if (module.default && !allowed.includes("GET")) allowed.unshift("GET");
  return new Response("Method not allowed", {
    status: 405,
    headers: { allow: allowed.join(", "), "content-type": "text/plain" },
  });
}

/** Static routes before parameters, parameters before catch-alls, deeper `_404`s first. */
function sortRoutes(routes: RouteEntry[]): RouteEntry[] {
  const rank = (r: RouteEntry) =>
    r.notFound ? 3 : r.pattern.includes("*") ? 2 : r.pattern.includes(":") ? 1 : 0;
  return [...routes].sort((a, b) =>
    rank(a) - rank(b) || b.pattern.split("/").length - a.pattern.split("/").length
  );
}

function segment(part: string): string {
  const rest = part.match(/^\[\.\.\.(\w+)\]$/);
  if (rest) return `:${rest[1]}{.+}`;
  const param = part.match(/^\[(\w+)\]$/);
  return param ? `:${param[1]}` : part;
}

function splitPath(path: string): { dir: string; name: string } {
  const relative = path.replace(/^\.\/routes\//, "").replace(/\.(tsx|ts|jsx|js)$/, "");
  const slash = relative.lastIndexOf("/");
  return slash < 0
    ? { dir: "", name: relative }
    : { dir: relative.slice(0, slash), name: relative.slice(slash + 1) };
}

/** `""`, `admin`, `admin/logs` for `admin/logs`: outermost first. */
function ancestors(dir: string): string[] {
  const parts = dir ? dir.split("/") : [];
  return [""].concat(parts.map((_, i) => parts.slice(0, i + 1).join("/")));
}

/**
 * An island's name: its file name without the extension.
 * @param path Manifest key, e.g. `./islands/key_table.tsx`.
 */
export function islandName(path: string): string {
  return path.replace(/^.*\//, "").replace(/\.(tsx|ts|jsx|js)$/, "");
}
