/**
 * The application's HTTP surface: `/healthz`, the admin API and console, `/metrics`, and every
 * Gemini API path to the proxy (straight, skipping the router: the proxy is the hot path).
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  type AdminContext,
  type AuthThrottle,
  checkBearer,
  type ConsoleOptions,
  createAdminApi,
  createAuthThrottle,
  createSessions,
  mountConsole,
} from "../admin/mod.ts";
import { VERSION } from "../config/mod.ts";
import { HttpError } from "../errors.ts";
import type { Logger } from "../logs/mod.ts";
import {
  allowOrigin,
  type ClientOf,
  clientResolver,
  isApiUrl,
  isPreflight,
  preflight,
  remoteAddrPeer,
} from "../proxy/mod.ts";
import type { Manifest } from "../web/mod.ts";
import type { Services } from "./services.ts";

/** Largest admin request body, bytes: room for 20,000 pasted keys. */
export const ADMIN_BODY_LIMIT = 2 * 1024 * 1024;
/** The manifest of a host that serves no console pages. */
const NO_CONSOLE: Manifest = { routes: {}, islands: {} };

/**
 * Builds the routes.
 * @param services The started subsystems.
 * @returns The Hono app, and the fetch handler a host serves.
 */
export async function buildHttp(
  services: Services,
): Promise<
  { app: Hono; fetch: (request: Request, env?: unknown) => Response | Promise<Response> }
> {
  const app = new Hono();
  const { logger } = services;
  answerErrors(app, logger);
  app.get("/healthz", async (c) => c.json(await health(services, c.req.raw)));
  // One client address for logs and the throttle: TRUST_PROXY applies to both.
  const clientOf = clientResolver(
    services.options.peerOf ?? remoteAddrPeer,
    () => services.config.trustProxy,
  );
  await mountAdmin(app, { services, clientOf });
  app.all("*", (c) => services.proxy(c.req.raw, clientOf(c.req.raw, c.env)));

  /** Gemini API paths skip the router: the proxy is the hot path. */
  async function serveApi(request: Request, env: unknown): Promise<Response> {
    if (isPreflight(request)) return preflight(request);
    try {
      // The proxy marks its own answers for browsers (it has read the request's headers).
      return await services.proxy(request, clientOf(request, env));
    } catch (error) {
      const httpError = error instanceof HttpError
        ? error
        : new HttpError(500, "Internal proxy error");
      if (!(error instanceof HttpError)) logger.log("error", "unhandled error", { error });
      return allowOrigin(request, httpError.toResponse());
    }
  }
  return {
    app,
    fetch: (request, env) =>
      isApiUrl(request.url) ? serveApi(request, env) : app.fetch(request, env),
  };
}

/** `GET /healthz`: status, version, store, keys, log queue and region. */
async function health(services: Services, request: Request): Promise<Record<string, unknown>> {
  const { options, config, now, registry, logs } = services;
  const { store } = options;
  const started = now();
  const region = options.regionOf?.(request) ?? config.region;
  let storeOk = true;
  try {
    // A hanging store must not hang the health check.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      store.ping(),
      new Promise((_, reject) => timer = setTimeout(() => reject(new Error("timeout")), 2000)),
    ]).finally(() => clearTimeout(timer));
  } catch {
    storeOk = false;
  }
  return {
    status: storeOk && !registry.degraded && !logs.failing ? "ok" : "degraded",
    version: VERSION,
    store: { kind: store.kind, ok: storeOk, latencyMs: now() - started },
    keys: { total: registry.keys.length, enabled: registry.enabledKeys.length },
    logs: {
      queued: logs.depth,
      countersPending: logs.countersPending,
      dropped: logs.dropped,
      written: logs.written,
      failing: logs.failing,
    },
    // null when neither the platform nor REGION tells (Deno Deploy exposes no region).
    region: region ?? null,
    ...(region && config.blockedColos.includes(region.toUpperCase())
      ? { regionBlocked: true }
      : {}),
  };
}

/** The admin API, the console's pages and assets, and `/metrics`. */
async function mountAdmin(
  app: Hono,
  deps: { services: Services; clientOf: ClientOf },
): Promise<void> {
  const { services, clientOf } = deps;
  const { options, config, now } = services;
  const sessions = config.adminPassword
    ? await createSessions({ secret: config.secretKey!, password: config.adminPassword, now })
    : null;
  // Admin passwords and the metrics token: wrong guesses counted per address and in total.
  const throttle = createAuthThrottle({ store: options.store, now, logger: services.logger });
  const admin: AdminContext = {
    logs: services.logs,
    throttle,
    clientOf,
    config,
    store: options.store,
    registry: services.registry,
    pool: services.pool,
    poolSync: services.poolSync,
    cipher: services.cipher,
    now,
    fetch: services.upstreamFetch,
    logger: services.logger,
    settings: services.settings,
    ...(sessions ? { sessions } : {}),
    ...(options.unsharedStore ? { unsharedStore: options.unsharedStore } : {}),
  };
  // Admin bodies are small (a pasted key list is the largest): anything bigger is refused before
  // it is read, on the API and the console's forms alike.
  app.use(
    "/admin/*",
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT,
      onError: () =>
        new HttpError(413, `Admin request bodies are limited to ${ADMIN_BODY_LIMIT} bytes`)
          .toResponse(),
    }),
  );
  const adminApi = createAdminApi(admin);
  app.route("/admin/api", adminApi);
  // The console's pages and assets: registered before the proxy's catch-all.
  const pages: ConsoleOptions = {
    admin,
    api: adminApi,
    settings: services.settings,
    sessions,
    manifest: options.manifest ?? NO_CONSOLE,
    assets: options.assets ?? null,
  };
  if (options.manifest || !options.loadManifest) mountConsole(app, pages);
  else mountLazyConsole(app, { console: pages, load: options.loadManifest });
  mountMetrics(app, { services, throttle, clientOf });
}

/** The app's error envelopes: only deliberate messages reach clients, 5xx are logged. */
function answerErrors(app: Hono, logger: Logger): void {
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      if (error.code >= 500) logger.log("error", error.message, { path: c.req.path, error });
      return error.toResponse();
    }
    logger.log("error", "unhandled error", { path: c.req.path, error });
    return new HttpError(500, "Internal proxy error").toResponse();
  });
  app.notFound(() => new HttpError(404, "Not found").toResponse());
}

/**
 * The console mounted on its first request: its pages, islands and their packages are loaded
 * then, so a proxy whose console nobody opens never holds them. Every console path is under
 * `/admin`; the admin API, registered before, keeps its own routes.
 */
function mountLazyConsole(
  app: Hono,
  lazy: { console: ConsoleOptions; load: () => Promise<Manifest> },
): void {
  let mounted: Promise<Hono> | null = null;
  const mount = async (): Promise<Hono> => {
    const pages = new Hono();
    answerErrors(pages, lazy.console.admin.logger);
    mountConsole(pages, { ...lazy.console, manifest: await lazy.load() });
    return pages;
  };
  const serve = async (c: Context): Promise<Response> => {
    mounted ??= mount().catch((error) => {
      mounted = null;
      throw error;
    });
    return await (await mounted).fetch(c.req.raw, c.env);
  };
  app.all("/admin", serve);
  app.all("/admin/*", serve);
}

/** `GET /metrics`, behind `METRICS_TOKEN` when it is set. */
function mountMetrics(
  app: Hono,
  deps: { services: Services; throttle: AuthThrottle; clientOf: ClientOf },
): void {
  const { services, throttle, clientOf } = deps;
  const { options, config, now } = services;
  app.get("/metrics", async (c) => {
    if (config.metricsToken) {
      await checkBearer(c, {
        realm: "metrics",
        secret: config.metricsToken,
        unauthenticated: new HttpError(401, "Metrics need the METRICS_TOKEN bearer token"),
        throttle,
        clientOf,
        now,
      });
    }
    const { registry, pool, logs } = services;
    const region = options.regionOf?.(c.req.raw) ?? config.region;
    const text = services.metrics.render({ registry, pool, logs, now: now(), region });
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}
