/**
 * Runtime settings bound to the store: the few options an admin may change from the console while
 * the proxy runs (rotation strategy, attempts, waiting, upstream URL, log bodies, retention, model
 * prices). Their schema and rules are in `settings_schema.ts`.
 *
 * Saved values live in the store (`Store.getSettings`), so every process sharing it follows a
 * change: {@linkcode Settings.sync} reloads them whenever the store's version changes, and the app
 * reads them through {@linkcode liveConfig}, so nothing on the hot path waits for the store.
 * @module
 */
import type { Store } from "../store/mod.ts";
import type { Config } from "./config.ts";
import {
  defaultSettings,
  effectiveSettings,
  type ForcedSettings,
  forcedSettings,
  patchedSettings,
  type RuntimeSettings,
  type SettingsPatch,
  validSettings,
} from "./settings_schema.ts";

/** The settings as the app holds them. */
export interface Settings {
  /** Effective values (read synchronously on the hot path). */
  readonly current: RuntimeSettings;
  /** Values saved in the store (only valid ones). */
  readonly stored: Partial<RuntimeSettings>;
  /** Values from the environment or built-in defaults. */
  readonly defaults: RuntimeSettings;
  /** Settings forced by an environment variable, with the variable's name. */
  readonly forced: ForcedSettings;
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
  const settings = new StoredSettings(store, {
    defaults: defaultSettings(config),
    forced: forcedSettings(config),
    onError: options.onError,
  });
  await settings.reload();
  return settings;
}

/** The settings of {@linkcode createSettings}: the store's saved values over the environment's. */
class StoredSettings implements Settings {
  readonly defaults: RuntimeSettings;
  readonly forced: ForcedSettings;
  stored: Partial<RuntimeSettings> = {};
  current: RuntimeSettings;
  #store: Store;
  #onError: ((error: unknown) => void) | undefined;
  /** The store version the saved values were read at; null before the first read. */
  #version: string | null = null;
  #syncing: Promise<void> | null = null;

  constructor(
    store: Store,
    base: {
      defaults: RuntimeSettings;
      forced: ForcedSettings;
      onError: ((error: unknown) => void) | undefined;
    },
  ) {
    this.#store = store;
    this.defaults = base.defaults;
    this.forced = base.forced;
    this.#onError = base.onError;
    this.current = { ...base.defaults };
  }

  async reload(): Promise<void> {
    const version = await this.#store.version();
    this.#apply(await this.#store.getSettings());
    this.#version = version;
  }

  sync(): Promise<void> {
    this.#syncing ??= (async () => {
      try {
        if (await this.#store.version() !== this.#version) await this.reload();
      } catch (error) {
        this.#onError?.(error);
      } finally {
        this.#syncing = null;
      }
    })();
    return this.#syncing;
  }

  async save(patch: SettingsPatch): Promise<RuntimeSettings> {
    // Starts from what the store holds, so keys this version does not know are kept.
    const next = patchedSettings(await this.#store.getSettings(), { patch, forced: this.forced });
    await this.#store.putSettings(next);
    this.#apply(next);
    this.#version = await this.#store.version();
    return this.current;
  }

  #apply(saved: Record<string, unknown>): void {
    this.stored = validSettings(saved, this.#onError);
    this.current = effectiveSettings(this);
  }
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
