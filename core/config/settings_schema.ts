/**
 * The runtime settings' schema: which settings there are, the environment variable that forces
 * each, how each is validated, and the pure rules that turn the environment, saved values and a
 * change into effective values. `settings.ts` binds them to the store.
 *
 * Each effective value is, in order: the environment variable when it was explicitly set (shown in
 * the console as forced, read-only), else the value saved in the store, else the default.
 * @module
 */
import * as z from "zod";
import { DEFAULT_PRICES, type PriceTable, priceTableSchema } from "../cost/mod.ts";
import { HttpError } from "../errors.ts";
import type { Config } from "./config.ts";

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

/** Settings forced by an environment variable, with the variable's name. */
export type ForcedSettings = Partial<Record<SettingName, string>>;

/**
 * The values the environment gives, or the built-in defaults.
 * @param config The parsed configuration.
 */
export function defaultSettings(config: Config): RuntimeSettings {
  return {
    strategy: config.strategy,
    maxAttempts: config.maxAttempts,
    waitWhenExhaustedMs: config.waitWhenExhaustedMs,
    upstreamUrl: config.upstreamUrl,
    logBodies: config.logBodies,
    logRetentionDays: config.logRetentionMs / 86_400_000,
    prices: DEFAULT_PRICES,
  };
}

/**
 * The settings whose variable was explicitly set in the environment.
 * @param config The parsed configuration (its `forced` variables).
 */
export function forcedSettings(config: Config): ForcedSettings {
  const forced: ForcedSettings = {};
  for (const [name, variable] of Object.entries(SETTING_VARIABLES)) {
    if (variable && config.forced?.includes(variable)) forced[name as SettingName] = variable;
  }
  return forced;
}

/**
 * The valid values among saved ones; each invalid one is reported and left out.
 * @param saved What the store holds.
 * @param onError Told about each value left out.
 */
export function validSettings(
  saved: Record<string, unknown>,
  onError?: (error: Error) => void,
): Partial<RuntimeSettings> {
  const valid: Record<string, unknown> = {};
  for (const name of Object.keys(SETTING_VARIABLES) as SettingName[]) {
    if (saved[name] === undefined) continue;
    const parsed = SETTING_SCHEMAS[name].safeParse(saved[name]);
    if (parsed.success) valid[name] = parsed.data;
    else onError?.(new Error(`Ignoring saved setting "${name}": ${parsed.error.message}`));
  }
  return valid as Partial<RuntimeSettings>;
}

/** What {@linkcode effectiveSettings} merges. */
export interface SettingLayers {
  /** The environment's values or the defaults. */
  defaults: RuntimeSettings;
  /** Valid saved values. */
  stored: Partial<RuntimeSettings>;
  /** Settings the environment forces: their saved values are ignored. */
  forced: ForcedSettings;
}

/**
 * The effective values: saved ones over the defaults, except where the environment forces one.
 * @param layers Defaults, saved values and forced settings.
 */
export function effectiveSettings(layers: SettingLayers): RuntimeSettings {
  const merged: Record<string, unknown> = { ...layers.defaults };
  for (const [name, value] of Object.entries(layers.stored)) {
    if (!layers.forced[name as SettingName]) merged[name] = value;
  }
  return merged as unknown as RuntimeSettings;
}

/**
 * What the store should hold after a change: a value sets a setting, null removes it, keys this
 * version does not know are kept.
 * @param saved What the store holds now.
 * @param change The patch and the settings the environment forces.
 * @returns The next saved values.
 * @throws {HttpError} 409 when the patch touches a forced setting.
 */
export function patchedSettings(
  saved: Record<string, unknown>,
  change: { patch: SettingsPatch; forced: ForcedSettings },
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...saved };
  for (const [name, value] of Object.entries(change.patch)) {
    if (value === undefined) continue;
    const variable = change.forced[name as SettingName];
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
  return next;
}
