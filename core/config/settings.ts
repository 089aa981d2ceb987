/**
 * Runtime settings: the few options an admin may change from the console while the proxy runs
 * (rotation strategy, attempts, waiting, upstream URL, log bodies, retention, model prices).
 *
 * Each effective value is, in order: the environment variable when it was explicitly set (shown in
 * the console as forced, read-only), else the value saved in the store, else the default. Saved
 * values live in the store ({@linkcode Store.getSettings}), so every process sharing it follows a
 * change: {@linkcode Settings.sync} reloads them whenever the store's version changes, and the app
 * reads them through {@linkcode liveConfig}, so nothing on the hot path waits for the store.
 * @module
 */
import * as z from "zod";
import { DEFAULT_PRICES, type PriceTable, priceTableSchema } from "../cost/mod.ts";
import type { Config } from "./config.ts";
import { HttpError } from "../errors.ts";
import type { Store } from "../store/mod.ts";

/** The environment variable that forces each setting (null: none, only the console sets it). */
export const SETTING_VARIABLES = {
  strategy: "ROTATION_STRATEGY",
  maxAttempts: "MAX_ATTEMPTS",
  waitWhenExhaustedMs: "WAIT_WHEN_EXHAUSTED_MS",
  upstreamUrl: "UPSTREAM_URL",
  logBodies: "LOG_BODIES",
  logRetentionDays: "LOG_RETENTION_DAYS",
  prices: null,
} as const;

/** A setting's name. */
export type SettingName = keyof typeof SETTING_VARIABLES;

/** Validation of each setting, as the console and the store hold them. */
export const SETTING_SCHEMAS = {
  strategy: z.enum(["round_robin", "least_used", "weighted"]),
  maxAttempts: z.number().int().min(1).max(20),
  waitWhenExhaustedMs: z.number().int().min(0).max(600_000),
  upstreamUrl: z.url({ protocol: /^https?$/ }).max(500).transform((url) => url.replace(/\/+$/, "")),
  logBodies: z.enum(["none", "errors", "all"]),
  logRetentionDays: z.number().positive().max(3650),
  prices: priceTableSchema,
} as const;

/** Effective values of every setting. */
export interface RuntimeSettings {
  /** Key selection strategy. */
  strategy: "round_robin" | "least_used" | "weighted";
  /** Distinct keys tried per request. */
  maxAttempts: number;
  /** How long to wait for a key when all rest, ms. */
  waitWhenExhaustedMs: number;
  /** Upstream base URL. */
  upstreamUrl: string;
  /** Which bodies request logs keep. */
  logBodies: "none" | "errors" | "all";
  /** How long request logs are kept, days. */
  logRetentionDays: number;
  /** Model prices, USD per 1M tokens (a saved table replaces the built-in one whole). */
  prices: PriceTable;
}

/** A change: a value sets a setting, null returns it to its default. */
export type SettingsPatch = { [K in SettingName]?: RuntimeSettings[K] | null };

/** Validates a patch sent by the console or the admin API. */
export const settingsPatchSchema = z.object({
  strategy: SETTING_SCHEMAS.strategy.nullable().optional(),
  maxAttempts: SETTING_SCHEMAS.maxAttempts.nullable().optional(),
  waitWhenExhaustedMs: SETTING_SCHEMAS.waitWhenExhaustedMs.nullable().optional(),
  upstreamUrl: SETTING_SCHEMAS.upstreamUrl.nullable().optional(),
  logBodies: SETTING_SCHEMAS.logBodies.nullable().optional(),
  logRetentionDays: SETTING_SCHEMAS.logRetentionDays.nullable().optional(),
  prices: SETTING_SCHEMAS.prices.nullable().optional(),
}).strict();

/** The settings as the app holds them. */
export interface Settings {
  /** Effective values (read synchronously on the hot path). */
  readonly current: RuntimeSettings;
  /** Values saved in the store (only valid ones). */
  readonly stored: Partial<RuntimeSettings>;
  /** Values from the environment or built-in defaults. */
  readonly defaults: RuntimeSettings;
  /** Settings forced by an environment variable, with the variable's name. */
  readonly forced: Partial<Record<SettingName, string>>;
  /** Reloads saved settings when the store's version changed. Never throws. */
  sync(): Promise<void>;
  /** Reloads saved settings now. */
  reload(): Promise<void>;
  /**
   * Saves a change and applies it at once in this process.
   * @throws {HttpError} 409 when a setting is forced by the environment.
   */
  save(patch: SettingsPatch): Promise<RuntimeSettings>;
}

/** Options of {@linkcode createSettings}. */
export interface SettingsOptions {
  /** Reports background reload failures and ignored saved values. */
  onError?: (error: unknown) => void;
}

/**
 * Loads the settings once and returns them.
 * @param store Where saved settings live.
 * @param config The configuration (environment values and defaults, and which were set).
 * @param options Error reporting.
 * @returns The settings.
 * @example
 * ```ts
 * const settings = await createSettings(store, config);
 * const pool = createKeyPool(registry, { now, strategy: () => settings.current.strategy });
 * ```
 */
export async function createSettings(
  store: Store,
  config: Config,
  options: SettingsOptions = {},
): Promise<Settings> {
  const defaults: RuntimeSettings = {
    strategy: config.strategy,
    maxAttempts: config.maxAttempts,
    waitWhenExhaustedMs: config.waitWhenExhaustedMs,
    upstreamUrl: config.upstreamUrl,
    logBodies: config.logBodies,
    logRetentionDays: config.logRetentionMs / 86_400_000,
    prices: DEFAULT_PRICES,
  };
  const forced: Partial<Record<SettingName, string>> = {};
  for (const [name, variable] of Object.entries(SETTING_VARIABLES)) {
    if (variable && config.forced?.includes(variable)) forced[name as SettingName] = variable;
  }
  let stored: Partial<RuntimeSettings> = {};
  let current: RuntimeSettings = { ...defaults };
  let version: string | null = null;
  let inFlight: Promise<void> | null = null;

  function apply(next: Record<string, unknown>): void {
    const valid: Record<string, unknown> = {};
    for (const name of Object.keys(SETTING_VARIABLES) as SettingName[]) {
      if (next[name] === undefined) continue;
      const parsed = SETTING_SCHEMAS[name].safeParse(next[name]);
      if (parsed.success) valid[name] = parsed.data;
      else {options.onError?.(
          new Error(`Ignoring saved setting "${name}": ${parsed.error.message}`),
        );}
    }
    stored = valid as Partial<RuntimeSettings>;
    const merged: Record<string, unknown> = { ...defaults };
    for (const [name, value] of Object.entries(valid)) {
      if (!forced[name as SettingName]) merged[name] = value;
    }
    current = merged as unknown as RuntimeSettings;
  }

  async function reload(): Promise<void> {
    const nextVersion = await store.version();
    apply(await store.getSettings());
    version = nextVersion;
  }

  await reload();
  return {
    get current() {
      return current;
    },
    get stored() {
      return stored;
    },
    defaults,
    forced,
    reload,
    sync() {
      inFlight ??= (async () => {
        try {
          if (await store.version() !== version) await reload();
        } catch (error) {
          options.onError?.(error);
        } finally {
          inFlight = null;
        }
      })();
      return inFlight;
    },
    async save(patch) {
      // Starts from what the store holds, so keys this version does not know are kept.
      const next: Record<string, unknown> = { ...await store.getSettings() };
      for (const [name, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        const variable = forced[name as SettingName];
        if (variable) {
          throw new HttpError(
            409,
            `Setting "${name}" is forced by the environment variable ${variable}`,
            { reason: "SETTING_FORCED" },
          );
        }
        if (value === null) delete next[name];
        else next[name] = value;
      }
      await store.putSettings(next);
      apply(next);
      version = await store.version();
      return current;
    },
  };
}

/**
 * A view of the configuration whose runtime settings follow {@linkcode Settings.current}: the proxy
 * and admin code keep reading `config.maxAttempts` and friends and see changes at once.
 * @param config The parsed configuration.
 * @param settings The settings.
 * @returns A configuration object with live getters for the runtime settings.
 */
export function liveConfig(config: Config, settings: Settings): Config {
  const view = { ...config };
  Object.defineProperties(view, {
    strategy: { get: () => settings.current.strategy, enumerable: true },
    maxAttempts: { get: () => settings.current.maxAttempts, enumerable: true },
    waitWhenExhaustedMs: { get: () => settings.current.waitWhenExhaustedMs, enumerable: true },
    upstreamUrl: { get: () => settings.current.upstreamUrl, enumerable: true },
    logBodies: { get: () => settings.current.logBodies, enumerable: true },
    logRetentionMs: {
      get: () => settings.current.logRetentionDays * 86_400_000,
      enumerable: true,
    },
  });
  return view;
}
