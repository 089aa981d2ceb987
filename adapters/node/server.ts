/**
 * The Node.js adapter: environment to config, config to store, store to app, app to a Node.js
 * HTTP server (`@hono/node-server`), with the same environment contract as the Deno server.
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import { createApp, type GatewayApp } from "../../core/app.ts";
import { type Env, parseConfig } from "../../core/config.ts";
import type { LogLevel } from "../../core/logger.ts";
import type { SiteAssets } from "../../core/web/types.ts";
import { findSecretKey } from "../deno/secret_key.ts";
import { nodeLiveBridge, serveUpgrades } from "./live_bridge.ts";
import { loadNodeAssets, nodeSecretFiles } from "./node_files.ts";
import { openNodeStore } from "./node_store.ts";

/** Options of {@linkcode startNodeServer}. */
export interface NodeStartOptions {
  /** The console's built assets, or where they are (default: none). */
  assets?: SiteAssets | URL | null;
  /** Receives every log line (default: the console). */
  logSink?: (level: LogLevel, line: string) => void;
  /** How often the snapshot checks the store for changes, ms (default 250). */
  syncIntervalMs?: number;
}

/** A running Node.js server. */
export interface RunningNodeServer {
  /** The app behind it. */
  gateway: GatewayApp;
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** Stops serving (open responses finish first), writes what is queued, closes the store. */
  close(): Promise<void>;
}

/**
 * Starts the proxy on Node.js.
 * @param env Environment variables (`process.env`).
 * @param options Assets and callbacks.
 * @returns The running server.
 * @throws {Error} On invalid configuration, or a store that cannot be opened.
 */
export async function startNodeServer(
  env: Env,
  options: NodeStartOptions = {},
): Promise<RunningNodeServer> {
  const parsed = parseConfig(env);
  const { secret, generatedAt } = await findSecretKey(parsed, env, nodeSecretFiles);
  const config = { ...parsed, secretKey: secret };
  const store = await openNodeStore(config, Date.now);
  const assets = options.assets instanceof URL
    ? await loadNodeAssets(options.assets)
    : options.assets ?? null;
  const gateway = await createApp({
    config,
    store,
    liveBridge: nodeLiveBridge,
    assets,
    ...(options.logSink ? { logSink: options.logSink } : {}),
  }).catch(async (error) => {
    await store.close();
    throw error;
  });
  if (!assets && config.adminPassword) {
    gateway.logger.log(
      "warn",
      "the admin console's assets were not found: its pages have no scripts",
      {
        hint: "run `deno task build:node` and start dist/node/server.mjs",
      },
    );
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
  const server = await listen(gateway, config);
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
  return {
    gateway,
    url: `http://${host}:${addr.port}`,
    async close() {
      clearInterval(interval);
      clearInterval(revalidation);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await gateway.sync(true);
      await gateway.poolSync.settled();
      await store.close();
    },
  };
}

/**
 * Serves the app on `HOST`:`PORT`. Node.js's own limits are set so the app's apply: header blocks
 * up to twice `MAX_HEADER_BYTES` reach the app (which answers 431 in Google's envelope), and no
 * overall request deadline cuts a long upload (`BODY_TIMEOUT_MS` bounds buffered bodies).
 */
function listen(
  gateway: GatewayApp,
  config: { host: string; port: number; maxHeaderBytes: number },
): Promise<Server> {
  const server = createAdaptorServer({
    fetch: (request, env) =>
      gateway.fetch(request, {
        remoteAddr: { hostname: (env as HttpBindings).incoming.socket.remoteAddress },
      }),
    serverOptions: {
      maxHeaderSize: Math.max(16 * 1024, config.maxHeaderBytes * 2),
      requestTimeout: 0,
    },
  }) as Server;
  serveUpgrades(server, (request) => gateway.fetch(request));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
