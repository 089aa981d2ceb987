/**
 * The admin console: mounts the file routes of `routes/` (pages under `/admin`) and the built
 * island assets (`/admin/assets/*`) on the app, and defines the state every console route gets.
 * @module
 */
import { Hono } from "hono";
import { HttpError } from "../errors.ts";
import type { Settings } from "../config/mod.ts";
import { type Manifest, mountRoutes, type SiteAssets } from "../web/mod.ts";
import type { AdminContext } from "./context.ts";
import { IN_PROCESS_ENV } from "./admin_auth.ts";
import { throttleAddress } from "./client_address.ts";
import type { Session, Sessions } from "./session.ts";

/** URL path of the built assets. */
export const ASSETS_PATH = "/admin/assets";

/** App-wide things console routes use. */
export interface ConsoleDeps {
  /** The admin API's shared state (config, store, registry, clock...). */
  admin: AdminContext;
  /** Runtime settings. */
  settings: Settings;
  /** Session signer; null when `ADMIN_PASSWORD` is not set (the console is closed). */
  sessions: Sessions | null;
  /**
   * Calls the admin JSON API in process (as the admin) and returns its JSON, so pages show
   * exactly what the API shows.
   * @throws {HttpError} With the API's status and message when it refuses.
   */
  api<T = unknown>(path: string): Promise<T>;
}

/** Per-request state of console routes. */
export interface ConsoleState {
  /** App-wide dependencies. */
  deps: ConsoleDeps;
  /** The verified session, set by `routes/admin/_middleware.ts`. */
  session: Session | null;
  /** The client's address (as request logs record it), for the sign-in throttle. */
  clientAddress: string;
}

/** Options of {@linkcode mountConsole}. */
export interface ConsoleOptions {
  /** The admin API's shared state. */
  admin: AdminContext;
  /** The admin JSON API app (called in process by pages). */
  api: Hono;
  /** Runtime settings. */
  settings: Settings;
  /** Session signer (null when the console is closed). */
  sessions: Sessions | null;
  /** The generated route manifest. */
  manifest: Manifest;
  /** Built assets (null: pages render without styles and scripts). */
  assets: SiteAssets | null;
}

/**
 * Mounts the console on the app; call it before any catch-all route.
 * @param app The app.
 * @param options State, API, manifest and assets.
 */
export function mountConsole(app: Hono, options: ConsoleOptions): void {
  // In-process calls skip the outer app, so errors are turned into envelopes here.
  const internal = new Hono();
  internal.onError((error) => {
    if (error instanceof HttpError) return error.toResponse();
    options.admin.logger.log("error", "admin API call from a console page failed", { error });
    return new HttpError(500, "Internal proxy error").toResponse();
  });
  internal.route("/", options.api);
  const deps: ConsoleDeps = {
    admin: options.admin,
    settings: options.settings,
    sessions: options.sessions,
    async api<T>(path: string): Promise<T> {
      // Pages check the session first; the API trusts calls carrying this process's own env.
      const response = await internal.request(path, {}, IN_PROCESS_ENV);
      const body = await response.json();
      if (!response.ok) {
        throw new HttpError(response.status, body?.error?.message ?? "Admin API error");
      }
      return body as T;
    },
  };
  mountRoutes<ConsoleState>(app, options.manifest, {
    assets: options.assets,
    assetsPath: ASSETS_PATH,
    state: (c) => ({
      deps,
      session: null,
      clientAddress: throttleAddress(options.admin.clientOf(c.req.raw, c.env)),
    }),
  });
}
