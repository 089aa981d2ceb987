/**
 * The Supabase Edge Function adapter: environment to config, config to the Supabase store, store
 * to the app, served under the function's path.
 *
 * Clients call `https://<project>.supabase.co/functions/v1/<function>/v1beta/...`; the runtime
 * hands the function that path (with or without `/functions/v1`), and the adapter strips the
 * prefix before the app sees it. Upload URLs the app rewrites are put back under the function
 * path, so resumable uploads come back through it. Logs and counters are written in the
 * background: on a timer while requests come in, after each request (kept alive with
 * `EdgeRuntime.waitUntil` when the runtime offers it) and on `flush()` before the worker stops.
 * @module
 */
import { createApp, type GatewayApp } from "../../core/app.ts";
import { type Config, type Env, parseConfig } from "../../core/config/mod.ts";
import { HttpError } from "../../core/errors.ts";
import type { LogLevel } from "../../core/logs/mod.ts";
import { createMemoryStore, type Store } from "../../core/store/mod.ts";
import { denoLiveBridge } from "../_shared/deno_live_bridge.ts";
import { createServiceClient, createSupabaseStore } from "../../core/store/supabase/mod.ts";
import { manifest } from "../../routes/_manifest.gen.ts";

/** Options of {@linkcode createEdgeProxy}; tests inject I/O, the function passes none. */
export interface EdgeProxyOptions {
  /** fetch for upstream calls (default: the global one). */
  fetch?: typeof fetch;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Receives every log line (default: the console). */
  logSink?: (level: LogLevel, line: string) => void;
  /** How often state is shared with the store while requests come in, ms (default 1000). */
  syncIntervalMs?: number;
}

/** The function's handler and its background work. */
export interface EdgeProxy {
  /** Serves one request (what `Deno.serve` is given). */
  fetch(request: Request): Promise<Response>;
  /** Writes queued logs and counters now (kept alive with `EdgeRuntime.waitUntil`). */
  flush(): Promise<void>;
  /** Stops the timers, flushes and releases the store. */
  close(): Promise<void>;
}

/** What the Supabase runtime offers as the global `EdgeRuntime` (when it does). */
interface EdgeRuntimeGlobal {
  waitUntil(promise: Promise<unknown>): unknown;
}

/** Supabase's gateway answers 504 itself when a function has sent no response for this long, ms. */
export const SUPABASE_IDLE_TIMEOUT_MS = 150_000;
/**
 * `UPSTREAM_TIMEOUT_MS` in an Edge Function unless set: 10 s under the gateway's limit, which
 * counts from the request's arrival, so the function's start, reading the request and the store
 * round trips before the upstream call fit, and the client gets the proxy's 504 naming the limit
 * rather than the gateway's bare one.
 */
export const EDGE_UPSTREAM_TIMEOUT_MS = 140_000;
/** Keep syncing this long after the last request, ms; an idle worker then stays quiet. */
const ACTIVE_WINDOW_MS = 10_000;
/** How soon after a request its log record and counters are written, ms. */
const FLUSH_DELAY_MS = 500;

/**
 * Builds the function's handler. The app starts on the first request, so a misconfiguration or
 * an unreachable database answers `503` in Google's error envelope (and is tried again on the
 * next request) instead of failing the worker's boot.
 * @param env The function's environment (`Deno.env.toObject()`): Supabase provides
 *   `SUPABASE_URL` and `SUPABASE_SERVICE_ROLE_KEY`; set `SECRET_KEY`, `GEMINI_API_KEYS` and
 *   `PROXY_TOKENS` with `supabase secrets set`.
 * @param options Injected I/O.
 * @returns The handler.
 * @example
 * ```ts
 * const proxy = createEdgeProxy(Deno.env.toObject());
 * Deno.serve(proxy.fetch);
 * ```
 */
export function createEdgeProxy(env: Env, options: EdgeProxyOptions = {}): EdgeProxy {
  const now = options.now ?? Date.now;
  const edge = (globalThis as { EdgeRuntime?: EdgeRuntimeGlobal }).EdgeRuntime;
  const waitUntil = edge ? (promise: Promise<unknown>) => void edge.waitUntil(promise) : undefined;
  /** Requests as the runtime gave them, by the request the app sees (WebSocket upgrades). */
  const originals = new WeakMap<Request, Request>();
  let starting: Promise<{ gateway: GatewayApp; store: Store }> | null = null;
  let started: { gateway: GatewayApp; store: Store } | null = null;
  let lastRequestAt = 0;
  let flushSoon: Promise<void> | null = null;

  async function start(): Promise<{ gateway: GatewayApp; store: Store }> {
    const config = parseEdgeConfig(env);
    const store = config.store === "memory" ? createMemoryStore({ now }) : createSupabaseStore(
      // parseConfig made sure both are set for STORE=supabase.
      createServiceClient(config.supabaseUrl!, config.supabaseServiceRoleKey!),
      { now },
    );
    const gateway = await createApp({
      config,
      store,
      now,
      manifest,
      liveBridge: (request, upstreamUrl) =>
        denoLiveBridge(originals.get(request) ?? request, upstreamUrl),
      ...(config.store === "memory"
        ? { unsharedStore: { remedy: "unset STORE to use the project's Postgres store" } }
        : {}),
      ...(waitUntil ? { waitUntil } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.logSink ? { logSink: options.logSink } : {}),
    });
    if (config.upstreamTimeoutMs >= SUPABASE_IDLE_TIMEOUT_MS) {
      gateway.logger.log(
        "warn",
        "UPSTREAM_TIMEOUT_MS reaches the Supabase gateway's idle timeout",
        {
          upstreamTimeoutMs: config.upstreamTimeoutMs,
          hint: "the gateway answers 504 itself after 150 s without a response: keep it below",
        },
      );
    }
    return { gateway, store };
  }

  function app(): Promise<{ gateway: GatewayApp; store: Store }> {
    starting ??= start().then((value) => started = value, (error) => {
      starting = null;
      throw error;
    });
    return starting;
  }
  void app().catch(() => {/* answered on the first request */});

  const timer = setInterval(() => {
    if (started && (now() - lastRequestAt < ACTIVE_WINDOW_MS || started.gateway.logs.depth > 0)) {
      void started.gateway.sync();
    }
  }, options.syncIntervalMs ?? 1000);

  function flush(): Promise<void> {
    if (!started) return Promise.resolve();
    const done = started.gateway.sync();
    waitUntil?.(done);
    return done;
  }

  /** Writes this request's facts shortly after it, keeping the worker alive until then. */
  function scheduleFlush(): void {
    if (flushSoon) return;
    flushSoon = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_DELAY_MS))
      .then(flush)
      .catch(() => {/* the next sync writes what is still queued */})
      .finally(() => flushSoon = null);
    waitUntil?.(flushSoon);
  }

  return {
    async fetch(request) {
      lastRequestAt = now();
      const url = new URL(request.url);
      const mount = functionMount(url.pathname);
      if (!mount) return new HttpError(404, "Not found").toResponse();
      let gateway: GatewayApp;
      try {
        gateway = (await app()).gateway;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.error(message);
        return new HttpError(503, `The proxy could not start: ${message}`).toResponse();
      }
      url.pathname = mount.rest;
      const inner = new Request(url, request);
      originals.set(inner, request);
      const response = await gateway.fetch(inner);
      scheduleFlush();
      // With PUBLIC_URL the app already wrote the public address.
      return env.PUBLIC_URL ? response : underMount(response, mount.publicPath, hostedBase(env));
    },
    flush,
    async close() {
      clearInterval(timer);
      await flushSoon;
      const current = started ?? await starting?.catch(() => null);
      if (!current) return;
      await current.gateway.sync();
      await current.gateway.poolSync.settled();
      await current.store.close();
    },
  };
}

/**
 * The function's configuration: `STORE` defaults to `supabase`, the region to the one Supabase
 * reports (`SB_REGION`), and `UPSTREAM_TIMEOUT_MS` to {@linkcode EDGE_UPSTREAM_TIMEOUT_MS}.
 * @param env The function's environment.
 * @returns The configuration.
 * @throws {Error} Naming each bad or missing variable (`SECRET_KEY` is required).
 */
export function parseEdgeConfig(env: Env): Config {
  const config = parseConfig({
    ...env,
    STORE: env.STORE || "supabase",
    DENO_REGION: env.DENO_REGION || env.SB_REGION,
  });
  if (config.store === "kv") {
    throw new Error("Invalid configuration:\n  STORE: kv is not available in an Edge Function");
  }
  if (!config.secretKey) {
    throw new Error(
      "Invalid configuration:\n  SECRET_KEY: is required (supabase secrets set SECRET_KEY=...)",
    );
  }
  // Set after parsing, so the default does not count as set in the environment.
  if (!env.UPSTREAM_TIMEOUT_MS?.trim()) config.upstreamTimeoutMs = EDGE_UPSTREAM_TIMEOUT_MS;
  return config;
}

/** Where the function is mounted, as seen in a request path. */
interface Mount {
  /** The function's public path, `/functions/v1/<name>`. */
  publicPath: string;
  /** The path the app serves, e.g. `/v1beta/models`. */
  rest: string;
}

/**
 * Splits `/functions/v1/<name>/rest` or `/<name>/rest` (the runtime may drop `/functions/v1`).
 * @param pathname The request path.
 */
export function functionMount(pathname: string): Mount | null {
  const match = pathname.match(/^(?:\/functions\/v1)?\/([^/]+)(\/.*)?$/);
  if (!match) return null;
  return { publicPath: `/functions/v1/${match[1]}`, rest: match[2] ?? "/" };
}

/** On Supabase's hosting, the project's public origin (`https://<ref>.supabase.co`). */
function hostedBase(env: Env): string | null {
  const url = env.SUPABASE_URL?.replace(/\/+$/, "");
  return url?.startsWith("https://") ? url : null;
}

/**
 * Puts an upload URL the app rewrote to its own root back under the function's path: on the
 * hosted project's origin when known (the runtime may see the request as plain `http`), else on
 * the origin the app chose from the request.
 */
function underMount(response: Response, publicPath: string, origin: string | null): Response {
  const location = response.headers.get("x-goog-upload-url");
  if (!location) return response;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return response;
  }
  if (url.pathname.startsWith(publicPath + "/")) return response;
  const base = (origin ?? url.origin) + publicPath;
  const rewritten = base + url.pathname + url.search;
  try {
    response.headers.set("x-goog-upload-url", rewritten);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set("x-goog-upload-url", rewritten);
    return copy;
  }
}
