/**
 * The runtime-agnostic application: every platform adapter builds one with {@linkcode createApp}
 * and hands its `fetch` to the platform's server.
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Config } from "./config.ts";
import { HttpError } from "./errors.ts";
import { createLogger, type Logger, type LogLevel } from "./logger.ts";
import { clientResolver, type PeerOf, remoteAddrPeer } from "./proxy/client_address.ts";
import { allowOrigin, isApiUrl, isPreflight, preflight } from "./proxy/cors.ts";
import { createProxyHandler, type LiveBridge } from "./proxy/proxy_handler.ts";
import { createRegionalRelay } from "./proxy/regional_relay.ts";
import { createRegistry, type Registry } from "./registry.ts";
import { createAffinity } from "./affinity.ts";
import { createAdminApi } from "./admin/admin_api.ts";
import { mountConsole } from "./admin/console.ts";
import type { AdminContext } from "./admin/context.ts";
import { createSessions } from "./admin/session.ts";
import { checkBearer } from "./admin/admin_auth.ts";
import { createAuthThrottle } from "./admin/auth_throttle.ts";
import type { UnsharedStore } from "./admin/unshared_store.ts";
import { createSettings, liveConfig } from "./settings.ts";
import type { SiteAssets } from "./web/types.ts";
import { manifest } from "../routes/_manifest.gen.ts";
import { createLogWriter, type LogWriter } from "./logs/log_writer.ts";
import { createMetrics } from "./metrics.ts";
import { createKeyPool, type KeyPool } from "./key_pool.ts";
import { configuredModels, createModelBook } from "./model_book.ts";
import { createTokenQuota } from "./tokens/token_quota.ts";
import { createLeaseLedger } from "./limits/lease_ledger.ts";
import { createKeyCaps } from "./limits/key_caps.ts";
import { livePrices } from "./cost/prices.ts";
import { createPoolSync, type PoolSync } from "./pool_sync.ts";
import { revalidationCandidates, validateKeys, type ValidationResult } from "./revalidate.ts";
import { createCipher } from "./secrets.ts";
import { importSecrets, resealKeys } from "./seed.ts";
import type { Store } from "./store/store.ts";
import { VERSION } from "./version.ts";

/** Largest admin request body, bytes: room for 20,000 pasted keys. */
export const ADMIN_BODY_LIMIT = 2 * 1024 * 1024;

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Validated configuration; `secretKey` must be set. */
  config: Config;
  /** Store backend. */
  store: Store;
  /** fetch used for upstream calls (default: the global one). */
  fetch?: typeof fetch;
  /** Clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Receives log lines, already redacted (default: the console). */
  logSink?: (level: LogLevel, line: string) => void;
  /** Platform WebSocket relay for the Live API. */
  liveBridge?: LiveBridge;
  /** Hands background work to the platform (Cloudflare's `ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Waits (default: `setTimeout`); tests inject one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Set by adapters whose store lives in one instance while the host runs many (`STORE=memory`
   * on Workers, Edge Functions, Deno Deploy): admin writes answer 409 and the console says why.
   */
  unsharedStore?: UnsharedStore;
  /** The admin console's built browser assets (`deno task build`); null serves pages without them. */
  assets?: SiteAssets | null;
  /**
   * The region serving one request, for platforms that tell per request (Cloudflare's
   * `request.cf.colo`); `config.region` is used when it gives none.
   */
  regionOf?: (request: Request) => string | null | undefined;
  /**
   * The socket peer's address of a request (default: Deno's `remoteAddr` from the serve handler's
   * info); Workers pass Cloudflare's `cf-connecting-ip`. With `TRUST_PROXY` it gives way to the
   * trusted `X-Forwarded-For` entry, for request logs and the sign-in throttle alike.
   */
  peerOf?: PeerOf;
}

/** A built application. */
export interface GatewayApp {
  /** The Hono app, for mounting or testing. */
  app: Hono;
  /**
   * Handles one request: all a platform needs. `env` reaches Hono as `c.env` (Deno's connection
   * info, whose `remoteAddr` is the client's address unless `TRUST_PROXY` says otherwise).
   */
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  /** The in-memory snapshot of keys and tokens. */
  registry: Registry;
  /** Rotation state. */
  pool: KeyPool;
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Logger in use. */
  logger: Logger;
  /** The request log queue. */
  logs: LogWriter;
  /**
   * Shares state with the store: adapters call it on a timer (a few times a second) or per
   * request. Counters are written at most once a second unless `force` is set (shutdown, tests),
   * which also hands every leased block of limit capacity back.
   */
  sync(force?: boolean): Promise<void>;
  /** Re-validates disabled keys and re-enables those Google accepts again. */
  revalidateDisabled(): Promise<ValidationResult[]>;
}

/**
 * Builds the application: imports the configured secrets, loads the snapshot and wires routes.
 * @param options Configuration, store and injected I/O.
 * @returns The app, ready to serve.
 * @throws {Error} When `config.secretKey` is missing.
 * @example
 * ```ts
 * const { fetch } = await createApp({ config, store: createMemoryStore() });
 * // hand `fetch` to the platform server, e.g. a Deno or Workers entry
 * ```
 */
export async function createApp(options: AppOptions): Promise<GatewayApp> {
  const { store } = options;
  // Runtime settings (strategy, attempts, upstream...) saved from the console, read live.
  const settings = await createSettings(store, options.config);
  const config = liveConfig(options.config, settings);
  const now = options.now ?? Date.now;
  if (!config.secretKey) throw new Error("SECRET_KEY is required to encrypt keys at rest");
  const cipher = await createCipher(config.secretKey);
  const secrets = { current: (): Iterable<string> => config.geminiKeys };
  const logger = createLogger({
    level: config.logLevel,
    now,
    secrets: () => secrets.current(),
    ...(options.logSink ? { sink: options.logSink } : {}),
  });

  if (config.secretKeyPrevious) {
    const result = await resealKeys(store, cipher, await createCipher(config.secretKeyPrevious));
    logger.log("info", "re-sealed keys under the new SECRET_KEY", result);
  }
  await importSecrets(store, {
    keys: config.geminiKeys,
    tokens: config.proxyTokens,
    cipher,
    now,
  });
  const registry = await createRegistry(store, {
    cipher,
    now,
    onError: (error) => logger.log("warn", "store refresh failed", { error }),
  });
  secrets.current = () => registry.secrets;

  // Per-model state, metric labels and aggregate rows only for models upstream has confirmed
  // or the operator named: invented names share one slot.
  const models = createModelBook({
    configured: configuredModels(() => ({
      limits: config.keyLimits,
      keys: registry.keys,
      tokens: registry.tokens,
    })),
  });
  const logs = createLogWriter({
    store,
    get retentionMs() {
      return config.logRetentionMs;
    },
    maxQueue: config.logQueueMax,
    logger,
    modelLabel: models.fold,
    ...(options.waitUntil ? { waitUntil: options.waitUntil } : {}),
  });
  const metrics = createMetrics({ modelLabel: models.fold });
  // Token limits and key caps: capacity leased from the store in blocks (core/limits/).
  const ledger = createLeaseLedger({ store, now, logger, background: options.waitUntil });
  const caps = createKeyCaps({
    ledger,
    defaults: () => config.keyLimits,
    scopeOf: (key) => pool.scopeOf(key),
    logger,
    foldModel: models.fold,
  });
  const pool = createKeyPool(registry, {
    now,
    strategy: () => config.strategy,
    limits: () => config.keyLimits,
    models,
    caps,
  });
  const poolSync = createPoolSync({
    store,
    pool,
    registry,
    now,
    logger,
    // Other processes' counts serve least_used only: caps are held by the leases.
    needsCounts: () => settings.current.strategy === "least_used",
  });
  const tokenQuota = createTokenQuota({ store, ledger, now, logger });
  // Called as a method of other objects later: Workers' fetch throws "Illegal invocation" unless
  // it is called with the global as `this`.
  const upstreamFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const proxy = createProxyHandler({
    config,
    registry,
    pool,
    models,
    poolSync,
    affinity: createAffinity(store, now),
    tokens: tokenQuota,
    caps,
    prices: livePrices(() => settings.current.prices),
    fetch: upstreamFetch,
    now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    logger,
    liveBridge: options.liveBridge,
    regionOf: options.regionOf,
    relay: createRegionalRelay({ config, fetch: upstreamFetch, now, logger }),
    onFinish(record) {
      metrics.observe(record);
      logs.push(record);
    },
  });
  await poolSync.sync();

  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      if (error.code >= 500) logger.log("error", error.message, { path: c.req.path, error });
      return error.toResponse();
    }
    logger.log("error", "unhandled error", { path: c.req.path, error });
    return new HttpError(500, "Internal proxy error").toResponse();
  });
  app.notFound(() => new HttpError(404, "Not found").toResponse());

  app.get("/healthz", async (c) => {
    const started = now();
    const region = options.regionOf?.(c.req.raw) ?? config.region;
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
    return c.json({
      status: storeOk && !registry.degraded && !logs.failing ? "ok" : "degraded",
      version: VERSION,
      store: { kind: store.kind, ok: storeOk, latencyMs: now() - started },
      keys: { total: registry.keys.length, enabled: registry.enabledKeys.length },
      logs: {
        queued: logs.depth,
        dropped: logs.dropped,
        written: logs.written,
        failing: logs.failing,
      },
      // null when neither the platform nor REGION tells (Deno Deploy exposes no region).
      region: region ?? null,
      ...(region && config.blockedColos.includes(region.toUpperCase())
        ? { regionBlocked: true }
        : {}),
    });
  });

  const sessions = config.adminPassword
    ? await createSessions({ secret: config.secretKey, password: config.adminPassword, now })
    : null;
  // Admin passwords and the metrics token: wrong guesses counted per address and in total.
  const throttle = createAuthThrottle({ store, now, logger });
  // One client address for logs and the throttle: TRUST_PROXY applies to both.
  const clientOf = clientResolver(options.peerOf ?? remoteAddrPeer, () => config.trustProxy);
  const admin: AdminContext = {
    logs,
    throttle,
    clientOf,
    config,
    store,
    registry,
    pool,
    poolSync,
    cipher,
    now,
    fetch: upstreamFetch,
    logger,
    settings,
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
  // The console's pages and assets: registered before the proxy's catch-all below.
  mountConsole(app, {
    admin,
    api: adminApi,
    settings,
    sessions,
    manifest,
    assets: options.assets ?? null,
  });

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
    const region = options.regionOf?.(c.req.raw) ?? config.region;
    const text = metrics.render({ registry, pool, logs, now: now(), region });
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.all("*", (c) => proxy(c.req.raw, clientOf(c.req.raw, c.env)));

  /** Gemini API paths skip the router: the proxy is the hot path. */
  async function serveApi(request: Request, env: unknown): Promise<Response> {
    if (isPreflight(request)) return preflight(request);
    try {
      return allowOrigin(request, await proxy(request, clientOf(request, env)));
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
    registry,
    pool,
    poolSync,
    logger,
    logs,
    async sync(force = false) {
      await Promise.all([
        registry.sync(),
        poolSync.sync(force),
        logs.flush(),
        tokenQuota.sync(),
        ledger.sync({ releaseAll: force }),
        settings.sync(),
      ]);
    },
    revalidateDisabled() {
      return validateKeys(revalidationCandidates(registry.keys), registry, store, {
        upstreamUrl: config.upstreamUrl,
        cfAigToken: config.cfAigToken,
        fetch: upstreamFetch,
        now,
      });
    },
  };
}
