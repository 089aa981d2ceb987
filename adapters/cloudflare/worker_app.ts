/**
 * The Cloudflare Workers adapter's logic: bindings to config, config to store, store to app, app
 * to the Worker's `fetch`. `worker.ts` exports it as the Worker (a Worker module may export
 * nothing but its handlers, so everything else lives here).
 *
 * The app is built once per isolate, on the first request, and cached. Workers have no timers
 * between requests, so state is refreshed by requests: a busy isolate in the background, after
 * each request, since every request hands its log write and state sync to `ctx.waitUntil`; a
 * quiet one by the core itself, which checks the store's version before serving a request when
 * its snapshot of keys and tokens is older than a second. Changes made elsewhere (the admin
 * console, another deployment) thus reach the Worker within a second, as they reach a Deno
 * process. With `STORE=memory` every isolate has a store of its own: admin writes are refused.
 * @module
 */
import { createApp, type GatewayApp } from "../../core/app.ts";
import { type Config, type Env, parseConfig } from "../../core/config.ts";
import { consoleElsewhere } from "../../core/admin/console_elsewhere.ts";
import { HttpError } from "../../core/errors.ts";
import { createMemoryStore } from "../../core/store/memory_store.ts";
import type { Store } from "../../core/store/store.ts";
import { createSupabaseStore } from "../supabase/supabase_store.ts";
import { type Background, createBackground } from "./background.ts";
import { workersLiveBridge } from "./live_bridge.ts";
import { createPostgrestServiceClient } from "./postgrest_client.ts";
import type { ExecutionContext, IncomingCf, WorkerBindings } from "./workers_types.ts";

/** A built app and its background scheduler, one per isolate. */
interface Built {
  gateway: GatewayApp;
  background: Background;
  config: Config;
}

let built: Promise<Built> | null = null;
/** The context of the request being handled, for background work the core starts by itself. */
let currentCtx: ExecutionContext | null = null;
let lastRevalidation = 0;

/**
 * Serves one request.
 * @param request The client request (`request.cf.colo` names the serving colo).
 * @param bindings Vars and secrets (`GEMINI_API_KEYS`, `PROXY_TOKENS`, `SECRET_KEY`, ...).
 * @param ctx The execution context; background work goes to its `waitUntil`.
 * @returns The response; a configuration error answers 500 in Google's error envelope.
 */
export async function handleRequest(
  request: Request,
  bindings: WorkerBindings,
  ctx: ExecutionContext,
): Promise<Response> {
  currentCtx = ctx;
  let app: Built;
  try {
    built ??= build(bindings).catch((error) => {
      built = null; // a store that was unreachable may answer on the next request
      throw error;
    });
    app = await built;
  } catch (error) {
    return startupFailure(error);
  }
  const { gateway, background, config } = app;
  if (
    config.revalidateIntervalMs > 0 && Date.now() - lastRevalidation > config.revalidateIntervalMs
  ) {
    lastRevalidation = Date.now();
    ctx.waitUntil(gateway.revalidateDisabled().catch(() => {}));
  }
  const path = new URL(request.url).pathname;
  if (/^\/admin(\/(?!api\/)|$)/.test(path)) {
    // The console's pages are not bundled into the Worker (see `no_console_manifest.ts`).
    return consoleElsewhere(request, { host: "Cloudflare Worker", consoleUrl: config.consoleUrl });
  }
  const response = await gateway.fetch(request);
  ctx.waitUntil(background.settle(response.headers.get("x-request-id")));
  return response;
}

/**
 * Reads the bindings into a configuration, the way the Deno entry reads its environment, with the
 * rules of this platform: `SECRET_KEY` is required (nothing can be generated and kept), the store
 * is `memory` unless `STORE` says otherwise, and Deno KV does not exist here.
 * @param bindings The Worker's bindings.
 * @returns The validated configuration.
 * @throws {Error} Naming each bad variable; secret values are never shown.
 */
export function workerConfig(bindings: WorkerBindings): Config {
  const env: Env = { STORE: "memory" };
  for (const [name, value] of Object.entries(bindings)) {
    if (typeof value === "string") env[name] = value;
  }
  const config = parseConfig(env);
  const problems: string[] = [];
  if (!config.secretKey) {
    problems.push(
      "  SECRET_KEY: is required on Cloudflare Workers (set it with `wrangler secret put SECRET_KEY`)",
    );
  }
  if (config.store === "kv") {
    problems.push(
      '  STORE: "kv" (Deno KV) is not available on Cloudflare Workers; use "memory" or "supabase"',
    );
  }
  if (problems.length) throw new Error(`Invalid configuration:\n${problems.join("\n")}`);
  return config;
}

async function build(bindings: WorkerBindings): Promise<Built> {
  const config = workerConfig(bindings);
  const store = openStore(config);
  const gateway = await createApp({
    config,
    store,
    fetch: workerFetch,
    liveBridge: workersLiveBridge,
    regionOf: coloOf,
    // Cloudflare sets it from the connection and overwrites any value a client sends.
    peerOf: (request) => request.headers.get("cf-connecting-ip"),
    ...(config.store === "memory"
      ? {
        unsharedStore: {
          remedy: "set STORE=supabase with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY",
        },
      }
      : {}),
    waitUntil: (promise) => {
      try {
        currentCtx?.waitUntil(promise);
      } catch {
        // That request is over; the promise still runs while the isolate lives.
      }
    },
  });
  return { gateway, background: createBackground(gateway), config };
}

/**
 * `STORE=supabase`: the Supabase store over HTTP (supabase-js), shared with the admin console and
 * every other deployment on the project. `STORE=memory`: keys and tokens come from the bindings;
 * rotation state, logs and counters live in this isolate only.
 */
function openStore(config: Config): Store {
  if (config.store === "supabase") {
    // parseConfig made sure both are set for STORE=supabase.
    return createSupabaseStore(
      createPostgrestServiceClient(config.supabaseUrl!, config.supabaseServiceRoleKey!),
    );
  }
  return createMemoryStore();
}

/**
 * Upstream fetch: Workers' fetch asks for no compression by itself where Deno's asks for gzip, so
 * ask, as Deno does; the runtime decodes the body, and the proxy relays it decoded.
 */
function workerFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  if (!headers.has("accept-encoding")) headers.set("accept-encoding", "gzip");
  return fetch(input, { ...init, headers });
}

/** The Cloudflare colo serving the request, e.g. `HKG`. */
function coloOf(request: Request): string | null {
  const colo = (request as Request & { cf?: IncomingCf }).cf?.colo;
  return typeof colo === "string" && colo ? colo : null;
}

function startupFailure(error: unknown): Response {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith("Invalid configuration")) {
    console.error(message);
    const detail = message.replace(/^Invalid configuration:\s*/, "").replace(/\s*\n\s*/g, "; ");
    return new HttpError(500, `Gemini Proxy is misconfigured: ${detail}`, {
      reason: "PROXY_MISCONFIGURED",
    }).toResponse();
  }
  console.error("Gemini Proxy could not start", error);
  return new HttpError(
    503,
    "Gemini Proxy is starting and its store is unreachable: retry shortly",
    {
      reason: "PROXY_STARTING",
    },
  ).toResponse();
}
