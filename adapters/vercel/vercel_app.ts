/**
 * The Vercel Edge Function adapter's logic: `process.env` to config, config to store, store to
 * app, app to the function's handler. `edge_function.ts` exports it as the function.
 *
 * As on Cloudflare Workers, the app is built once per isolate, on the first request, and there
 * are no timers between requests: a request after a quiet second first checks the store's
 * version, and every request hands its log write and state sync to the runtime's `waitUntil`.
 * With `STORE=memory` each isolate keeps its own state, so admin writes are refused (409).
 * @module
 */
import { consoleElsewhere } from "../../core/admin/console_elsewhere.ts";
import { createApp, type GatewayApp } from "../../core/app.ts";
import { type Config, type Env, parseConfig } from "../../core/config.ts";
import { HttpError } from "../../core/errors.ts";
import { createMemoryStore } from "../../core/store/memory_store.ts";
import type { Store } from "../../core/store/store.ts";
import { type Background, createBackground } from "../cloudflare/background.ts";
import { createPostgrestServiceClient } from "../cloudflare/postgrest_client.ts";
import { createSupabaseStore } from "../supabase/supabase_store.ts";

/** A snapshot last checked longer ago than this (ms) is checked before the request is served. */
export const STALE_MS = 1000;

/** The second argument Vercel passes an Edge Function. */
export interface VercelContext {
  /** Keeps the function alive until `promise` settles. */
  waitUntil?(promise: Promise<unknown>): void;
}

interface Built {
  gateway: GatewayApp;
  background: Background;
  config: Config;
}

let built: Promise<Built> | null = null;
let currentWaitUntil: ((promise: Promise<unknown>) => void) | null = null;
let lastRevalidation = 0;

/**
 * Serves one request.
 * @param request The client request.
 * @param env The function's environment (`process.env`).
 * @param context Vercel's context; its `waitUntil` takes background work.
 * @returns The response; a configuration error answers 500 in Google's error envelope.
 */
export async function handleVercelRequest(
  request: Request,
  env: Env,
  context?: VercelContext,
): Promise<Response> {
  const waitUntil = waitUntilOf(context);
  currentWaitUntil = waitUntil;
  let app: Built;
  try {
    built ??= build(env).catch((error) => {
      built = null; // a store that was unreachable may answer on the next request
      throw error;
    });
    app = await built;
  } catch (error) {
    return startupFailure(error);
  }
  const { gateway, background, config } = app;
  if (Date.now() - gateway.registry.checkedAt > STALE_MS) await gateway.registry.sync();
  if (
    config.revalidateIntervalMs > 0 && Date.now() - lastRevalidation > config.revalidateIntervalMs
  ) {
    lastRevalidation = Date.now();
    waitUntil(gateway.revalidateDisabled().catch(() => {}));
  }
  if (/^\/admin(\/(?!api\/)|$)/.test(new URL(request.url).pathname)) {
    return consoleElsewhere(request, {
      host: "Vercel Edge Function",
      consoleUrl: config.consoleUrl,
    });
  }
  const response = await gateway.fetch(request);
  waitUntil(background.settle(response.headers.get("x-request-id")));
  return response;
}

/**
 * Reads the environment into a configuration with this platform's rules: `SECRET_KEY` is
 * required (nothing can be generated and kept), the store is `memory` unless `STORE` says
 * otherwise, Deno KV does not exist here, and the region is Vercel's `VERCEL_REGION`.
 * @param env The function's environment.
 * @returns The validated configuration.
 * @throws {Error} Naming each bad variable; secret values are never shown.
 */
export function vercelConfig(env: Env): Config {
  const config = parseConfig({ STORE: "memory", DENO_REGION: env.VERCEL_REGION, ...env });
  const problems: string[] = [];
  if (!config.secretKey) {
    problems.push(
      "  SECRET_KEY: is required on Vercel (set it with `vercel env add SECRET_KEY`)",
    );
  }
  if (config.store === "kv") {
    problems.push('  STORE: "kv" (Deno KV) is not available on Vercel; use "memory" or "supabase"');
  }
  if (problems.length) throw new Error(`Invalid configuration:\n${problems.join("\n")}`);
  return config;
}

async function build(env: Env): Promise<Built> {
  const config = vercelConfig(env);
  const gateway = await createApp({
    config,
    store: openStore(config),
    // Each isolate has its own memory store: an admin change would reach one isolate only.
    ...(config.store === "memory"
      ? {
        unsharedStore: {
          remedy: "set STORE=supabase with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY",
        },
      }
      : {}),
    waitUntil: (promise) => currentWaitUntil?.(promise),
  });
  return { gateway, background: createBackground(gateway), config };
}

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
 * The request's `waitUntil`: the context argument's, else the one Vercel's request context
 * exposes to `@vercel/functions`; without either the work still runs while the isolate lives.
 */
function waitUntilOf(context: VercelContext | undefined): (promise: Promise<unknown>) => void {
  if (typeof context?.waitUntil === "function") {
    return (promise) => context.waitUntil!(promise);
  }
  const holder = globalThis as {
    [key: symbol]: { get?: () => VercelContext | undefined } | undefined;
  };
  const fromRuntime = holder[Symbol.for("@vercel/request-context")]?.get?.();
  if (typeof fromRuntime?.waitUntil === "function") {
    return (promise) => fromRuntime.waitUntil!(promise);
  }
  return (promise) => void promise.catch(() => {});
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
