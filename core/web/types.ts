/**
 * Types of the Fresh-style app layer: route modules, handlers, page and layout props, the
 * generated manifest and the built assets. Names follow Fresh so that moving to Fresh 2 is a
 * matter of changing imports.
 * @module
 */
import type { ComponentType, JSX } from "preact";

/** What a handler or middleware receives for one request. */
export interface RouteContext<State = Record<string, unknown>> {
  /** The incoming request. */
  req: Request;
  /** Its parsed URL. */
  url: URL;
  /** Values of `[param]` segments, by name. */
  params: Record<string, string>;
  /** Per-request state: middlewares fill it, pages and layouts read it. */
  state: State;
  /**
   * Renders the route's page (wrapped in its layouts) with `data` as `props.data`.
   * @param data Anything the page needs (it is not sent to the browser unless given to an island).
   * @param options Status, headers, or another page component to render instead.
   */
  render(data?: unknown, options?: RenderOptions): Promise<Response>;
  /** Middlewares only: runs the rest of the chain (inner middlewares, then the handler). */
  next(): Promise<Response>;
  /**
   * A redirect to a path on this site (protocol-relative and absolute URLs are refused).
   * @param path Where to, e.g. `/admin/login?next=%2Fadmin`.
   * @param status 303 (default), 302, 307 or 308.
   */
  redirect(path: string, status?: 302 | 303 | 307 | 308): Response;
}

/** Options of {@linkcode RouteContext.render}. */
export interface RenderOptions {
  /** Response status (default 200). */
  status?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** A page component to render instead of the route's own (e.g. a middleware's setup page). */
  page?: ComponentType<PageProps>;
}

/** One request handler. */
export type HandlerFn<State = Record<string, unknown>> = (
  ctx: RouteContext<State>,
) => Response | Promise<Response>;

/** Handlers by HTTP method; a page without a `GET` handler is simply rendered. */
export type Handlers<State = Record<string, unknown>> = Partial<
  Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", HandlerFn<State>>
>;

/** Props of a page component. */
export interface PageProps<Data = unknown, State = Record<string, unknown>> {
  /** The request URL. */
  url: URL;
  /** `[param]` values. */
  params: Record<string, string>;
  /** What the handler passed to `ctx.render`. */
  data: Data;
  /** Per-request state. */
  state: State;
}

/** Props of a `_layout` component: the page props plus the component it wraps. */
export interface LayoutProps<Data = unknown, State = Record<string, unknown>>
  extends PageProps<Data, State> {
  /** The wrapped page (or inner layout), ready to render. */
  Component: () => JSX.Element;
}

/** A module in `routes/`: a page (default export) and/or handlers. */
export interface RouteModule {
  // deno-lint-ignore no-explicit-any -- pages choose their own data and state types
  default?: ComponentType<PageProps<any, any>>;
  // deno-lint-ignore no-explicit-any -- handlers choose their own state type
  handler?: Handlers<any> | HandlerFn<any>;
}

/** A `_layout` module. */
export interface LayoutModule {
  // deno-lint-ignore no-explicit-any -- layouts choose their own data and state types
  default: ComponentType<LayoutProps<any, any>>;
}

/** A `_middleware` module: one handler or several run in order. */
export interface MiddlewareModule {
  // deno-lint-ignore no-explicit-any -- middlewares choose their own state type
  handler: HandlerFn<any> | HandlerFn<any>[];
}

/** An island module: its default export is hydrated in the browser. */
export interface IslandModule {
  // deno-lint-ignore no-explicit-any -- islands choose their own props
  default: ComponentType<any>;
}

/**
 * The generated manifest (`routes/_manifest.gen.ts`, written by the build): every route and island
 * module by its path relative to the project root, so nothing reads the filesystem at run time.
 */
export interface Manifest {
  /** Modules under `routes/`, keyed like `./routes/admin/keys.tsx`. */
  routes: Record<string, RouteModule | LayoutModule | MiddlewareModule>;
  /** Modules under `islands/`, keyed like `./islands/dashboard.tsx`. */
  islands: Record<string, IslandModule>;
}

/** A built file served from memory or disk by the platform adapter. */
export interface AssetFile {
  /** The bytes. */
  body: Uint8Array;
  /** MIME type. */
  contentType: string;
}

/** The browser assets the build produced, as the platform adapter provides them. */
export interface SiteAssets {
  /** Island name to the URL of its content-hashed bundle. */
  islands: Record<string, string>;
  /** Island name to the URLs of the shared chunks its bundle imports (sent as `modulepreload`). */
  preload?: Record<string, string[]>;
  /** URLs of stylesheets every page links. */
  styles: string[];
  /** Reads a built file by name (e.g. `dashboard-1a2b3c4d.js`); null when there is none. */
  get(file: string): Promise<AssetFile | null>;
}
