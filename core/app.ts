/**
 * The runtime-agnostic application: every platform adapter builds one with {@linkcode createApp}
 * and hands its `fetch` to the platform's server. The subsystems it wires are described in
 * `docs/architecture.md`.
 * @module
 */
import {
  ADMIN_BODY_LIMIT,
  type AppOptions,
  buildHttp,
  type GatewayApp,
  startServices,
} from "./gateway/mod.ts";
import { revalidationCandidates, validateKeys } from "./rotation/mod.ts";

export { ADMIN_BODY_LIMIT };
export type { AppOptions, GatewayApp };

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
  const services = await startServices(options);
  const { app, fetch } = await buildHttp(services);
  const { registry, pool, poolSync, logger, logs, config } = services;
  const sync = async (force = false) => {
    await Promise.all([
      // Reads the store's versions only when a request came since the last probe.
      services.changes.tick(),
      poolSync.sync(force),
      // Aggregate counters go about once a second; a forced sync (shutdown) writes them all.
      force ? logs.flush() : logs.tick(),
      services.tokenQuota.sync(),
      services.ledger.sync({ releaseAll: force }),
    ]);
  };
  return {
    app,
    fetch,
    registry,
    pool,
    poolSync,
    logger,
    logs,
    sync,
    async settle() {
      await services.inFlight.settled();
      await sync(true);
    },
    revalidateDisabled() {
      return validateKeys(revalidationCandidates(registry.keys), {
        registry,
        store: options.store,
        upstreamUrl: config.upstreamUrl,
        cfAigToken: config.cfAigToken,
        fetch: services.upstreamFetch,
        now: services.now,
      });
    },
  };
}
