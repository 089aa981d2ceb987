/**
 * The Deno adapter: environment to config, config to store, store to app, app to `Deno.serve`.
 * @module
 */
import { createApp, type GatewayApp } from "../../core/app.ts";
import { type Config, type Env, onDenoDeploy, parseConfig } from "../../core/config/mod.ts";
import type { LogLevel } from "../../core/logs/mod.ts";
import { createMemoryStore, type Store } from "../../core/store/mod.ts";
import { createKvStore } from "../../core/store/kv/mod.ts";
import { denoLiveBridge } from "../_shared/deno_live_bridge.ts";
import { writingLocally } from "./local_files.ts";
import { resolveSecretKey } from "./secret_key.ts";
import { loadSiteAssets } from "./static_assets.ts";
import type { Manifest, SiteAssets } from "../../core/web/mod.ts";
import type { UnsharedStore } from "../../core/admin/mod.ts";

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** fetch for upstream calls (tests may inject one; default global fetch). */
  fetch?: typeof fetch;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Called once listening, with the bound address. */
  onListen?: (addr: Deno.Addr) => void;
  /** Waits (backoff; waiting for a key to free up). Tests inject one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Receives every log line (default: the console). */
  logSink?: (level: LogLevel, line: string) => void;
  /** How often the snapshot checks the store for changes, ms (default 250). */
  syncIntervalMs?: number;
  /** The console's built assets (default: `static/build/` of this checkout, when built). */
  assets?: SiteAssets | null;
  /**
   * The console's routes (default: this checkout's `routes/_manifest.gen.ts`, loaded on the first
   * console request).
   */
  manifest?: Manifest;
  /**
   * Treats the store as one instance's own (default: `STORE=memory` on Deno Deploy, which runs
   * many isolates): admin writes answer 409 and the console shows a banner.
   */
  unsharedStore?: UnsharedStore;
}

/** A running Deno server. */
export interface RunningServer {
  /** The app behind it. */
  gateway: GatewayApp;
  /** Base URL, e.g. `http://127.0.0.1:8000` (`unix:/path` when serving on a Unix socket). */
  url: string;
  /** Stops serving and closes the store. */
  close(): Promise<void>;
}

/**
 * Starts the proxy on Deno.
 * @param env Environment variables.
 * @param options Injected I/O and callbacks.
 * @returns The running server.
 * @throws {Error} On invalid configuration.
 */
export async function startServer(env: Env, options: StartOptions = {}): Promise<RunningServer> {
  const parsed = parseConfig(env);
  const { secret, generatedAt } = await writingLocally(() => resolveSecretKey(parsed, env), env);
  const config = { ...parsed, secretKey: secret };
  const store = await writingLocally(() => openStore(config, env, options.now ?? Date.now), env);
  const assets = options.assets === undefined ? await loadSiteAssets() : options.assets;
  const unsharedStore = options.unsharedStore ?? unsharedOnDeploy(config, env);
  const gateway = await createApp({
    config,
    store,
    liveBridge: denoLiveBridge,
    assets,
    // The console's pages load on its first request: a proxy nobody administers never holds them.
    ...(options.manifest ? { manifest: options.manifest } : { loadManifest: loadConsoleRoutes }),
    ...(unsharedStore ? { unsharedStore } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.logSink ? { logSink: options.logSink } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  if (!assets && config.adminPassword) {
    gateway.logger.log("warn", "the admin console is not built: its pages have no scripts", {
      hint: "run `deno task build`",
    });
  }
  if (generatedAt) {
    gateway.logger.log("warn", "SECRET_KEY is not set: generated one for this machine", {
      file: generatedAt,
      hint: "set SECRET_KEY in production; keys stored under this secret need it to be decrypted",
    });
  }
  const interval = setInterval(() => void gateway.sync(), options.syncIntervalMs ?? 250);
  const revalidation = config.revalidateIntervalMs > 0
    ? setInterval(() => void gateway.revalidateDisabled(), config.revalidateIntervalMs)
    : undefined;
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: (addr) => options.onListen?.(addr),
  }, gateway.fetch);
  return {
    gateway,
    url: addressUrl(server.addr),
    async close() {
      clearInterval(interval);
      clearInterval(revalidation);
      await server.shutdown();
      await gateway.sync(true);
      await gateway.poolSync.settled();
      await store.close();
    },
  };
}

/** Deno Deploy runs many isolates: with `STORE=memory` each has its own store. */
function unsharedOnDeploy(config: Config, env: Env): UnsharedStore | undefined {
  if (config.store !== "memory" || !onDenoDeploy(env)) return undefined;
  return {
    remedy:
      "unset STORE to use Deno KV, or set STORE=supabase with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY",
  };
}

/**
 * Where a server listens, as a URL. The address is the platform's choice when it sets the
 * runtime's `DENO_SERVE_ADDRESS` (`tcp:`, `unix:` or `vsock:`), whatever `HOST` and `PORT` say.
 * @param addr The listening address.
 * @returns `http://host:port` for TCP, else `unix:/path` or `vsock:cid:port`.
 */
export function addressUrl(addr: Deno.Addr): string {
  if ("hostname" in addr) {
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return `http://${host}:${addr.port}`;
  }
  if ("cid" in addr) return `vsock:${addr.cid}:${addr.port}`;
  return `${addr.transport}:${addr.path}`;
}

async function openStore(config: Config, env: Env, now: () => number): Promise<Store> {
  const { store: kind, kvPath } = config;
  if (kind === "memory") return createMemoryStore({ now });
  if (kind === "supabase") {
    // Loaded only here: supabase-js and its clients stay out of memory on every other store.
    const { createServiceClient, createSupabaseStore } = await import(
      "../../core/store/supabase/mod.ts"
    );
    // parseConfig made sure both are set.
    const client = createServiceClient(config.supabaseUrl!, config.supabaseServiceRoleKey!);
    return createSupabaseStore(client, { now });
  }
  // Deno Deploy opens the KV database attached to the app (one per timeline).
  if (onDenoDeploy(env)) return createKvStore(await Deno.openKv(), { now });
  const dir = kvPath.includes("/") ? kvPath.slice(0, kvPath.lastIndexOf("/")) : "";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  return createKvStore(await Deno.openKv(kvPath), { now });
}

/** The console's route manifest, imported on first use. */
async function loadConsoleRoutes(): Promise<Manifest> {
  return (await import("../../routes/_manifest.gen.ts")).manifest;
}
