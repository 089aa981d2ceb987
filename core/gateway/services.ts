/**
 * The subsystems of one application, wired together: configuration and settings, secrets, the
 * key snapshot, rotation, limits, logs, metrics and the proxy.
 * @module
 */
import { type Config, createSettings, liveConfig, type Settings } from "../config/mod.ts";
import { livePrices } from "../cost/mod.ts";
import {
  createKeyCaps,
  createLeaseLedger,
  createTokenQuota,
  type KeyCaps,
  type LeaseLedger,
  type TokenQuota,
} from "../limits/mod.ts";
import {
  createInFlight,
  createLogger,
  createLogWriter,
  type InFlight,
  type Logger,
  type LogWriter,
} from "../logs/mod.ts";
import { createMetrics, type Metrics } from "../metrics/mod.ts";
import { createProxyHandler, createRegionalRelay } from "../proxy/mod.ts";
import {
  configuredModels,
  createAffinity,
  createKeyPool,
  createModelBook,
  createPoolSync,
  createRegistry,
  createStoreChanges,
  type KeyPool,
  type ModelBook,
  type PoolSync,
  type Registry,
  type StoreChanges,
} from "../rotation/mod.ts";
import { type Cipher, createCipher, importSecrets, resealKeys } from "../secrets/mod.ts";
import type { AppOptions } from "./app_options.ts";

/** The subsystems of one application. */
export interface Services {
  /** What the host handed in. */
  options: AppOptions;
  /** The configuration, its runtime settings read live. */
  config: Config;
  /** Runtime settings saved from the console. */
  settings: Settings;
  /** Clock (epoch ms). */
  now: () => number;
  /** Seals keys at rest. */
  cipher: Cipher;
  /** Redacting logger. */
  logger: Logger;
  /** What changed in the store: probes its versions and reloads the caches that follow them. */
  changes: StoreChanges;
  /** Keys and tokens in memory. */
  registry: Registry;
  /** Model names with state of their own. */
  models: ModelBook;
  /** The request log queue. */
  logs: LogWriter;
  /** Requests whose record is not finished yet. */
  inFlight: InFlight;
  /** Prometheus metrics. */
  metrics: Metrics;
  /** Leased limit capacity. */
  ledger: LeaseLedger;
  /** Rotation state. */
  pool: KeyPool;
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Proxy tokens' limits. */
  tokenQuota: TokenQuota;
  /** The fetch used for upstream calls. */
  upstreamFetch: typeof fetch;
  /** The handler of every Gemini API path. */
  proxy: (request: Request, peer?: string | null) => Promise<Response>;
}

/**
 * Starts the subsystems: imports the configured secrets, loads the snapshot and reads other
 * processes' rotation state once. One change tracker follows the store's versions for every
 * cache (snapshot, settings, cooldowns): primed before their first load, it reads the store
 * again only for a request or a change signal.
 * @param options What the host handed in.
 * @returns The services.
 * @throws {Error} When `config.secretKey` is missing.
 */
export async function startServices(options: AppOptions): Promise<Services> {
  const warn = { log: (_error: unknown) => {} };
  const changes = createStoreChanges(options.store, {
    now: options.now ?? Date.now,
    onError: (error) => warn.log(error),
  });
  await changes.prime();
  const base = await openSecrets(options);
  warn.log = (error) => base.logger.log("warn", "store refresh failed", { error });
  changes.on("data", () => base.settings.reload());
  const registry = await createRegistry(options.store, {
    cipher: base.cipher,
    now: base.now,
    changes,
    opened: base.imported.opened,
    ...(base.imported.keys ? { firstKeys: base.imported.keys } : {}),
    onError: (error) => warn.log(error),
  });
  base.secrets.current = () => registry.secrets;
  // Per-model state, metric labels and aggregate rows only for models upstream has confirmed
  // or the operator named: invented names share one slot.
  const models = createModelBook({
    configured: configuredModels(() => ({
      limits: base.config.keyLimits,
      keys: registry.keys,
      tokens: registry.tokens,
    })),
  });
  const logs = createLogWriter({
    store: options.store,
    get retentionMs() {
      return base.config.logRetentionMs;
    },
    maxQueue: base.config.logQueueMax,
    logger: base.logger,
    modelLabel: models.fold,
    ...(options.waitUntil ? { waitUntil: options.waitUntil } : {}),
  });
  const services = startRotation({ ...base, changes, registry, models, logs });
  const { poolSync } = services;
  changes.on("cooldowns", () => poolSync.reloadCooldowns());
  await Promise.all([poolSync.reloadCooldowns(), poolSync.sync(true)]);
  return services;
}

/** Configuration, settings, clock, cipher and logger; the configured secrets imported. */
async function openSecrets(options: AppOptions) {
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
  const imported = await importSecrets(store, {
    keys: config.geminiKeys,
    tokens: config.proxyTokens,
    cipher,
    now,
  });
  return { options, settings, config, now, cipher, secrets, logger, imported };
}

/** Rotation, limits, metrics and the proxy, on the loaded snapshot. */
function startRotation(
  base: Omit<
    Services,
    | "metrics"
    | "inFlight"
    | "ledger"
    | "pool"
    | "poolSync"
    | "tokenQuota"
    | "upstreamFetch"
    | "proxy"
  >,
): Services {
  const { options, config, now, logger, registry, models } = base;
  const { store } = options;
  // Token limits and key caps: capacity leased from the store in blocks (core/limits/).
  const ledger = createLeaseLedger({ store, now, logger, background: options.waitUntil });
  const caps: KeyCaps = createKeyCaps({
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
    needsCounts: () => base.settings.current.strategy === "least_used",
  });
  const tokenQuota = createTokenQuota({ store, ledger, now, logger });
  // Called as a method of other objects later: Workers' fetch throws "Illegal invocation" unless
  // it is called with the global as `this`.
  const upstreamFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const metrics = createMetrics({ modelLabel: models.fold });
  const inFlight = createInFlight();
  const services = {
    ...base,
    metrics,
    inFlight,
    ledger,
    pool,
    poolSync,
    tokenQuota,
    upstreamFetch,
  };
  return { ...services, proxy: startProxy({ ...services, caps }) };
}

/** The proxy handler, its records handed to the metrics and the log queue. */
function startProxy(services: Omit<Services, "proxy"> & { caps: KeyCaps }) {
  const { options, config, now, logger, registry, pool, models, poolSync } = services;
  const upstreamFetch = services.upstreamFetch;
  return createProxyHandler({
    config,
    registry,
    pool,
    models,
    poolSync,
    affinity: createAffinity(options.store, now),
    tokens: services.tokenQuota,
    caps: services.caps,
    prices: livePrices(() => services.settings.current.prices),
    fetch: upstreamFetch,
    now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    logger,
    liveBridge: options.liveBridge,
    regionOf: options.regionOf,
    relay: createRegionalRelay({ config, fetch: upstreamFetch, now, logger }),
    inFlight: services.inFlight,
    onFinish(record) {
      services.metrics.observe(record);
      services.logs.push(record);
    },
  });
}
