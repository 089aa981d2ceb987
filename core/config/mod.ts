/**
 * Configuration: the environment parsed once with zod at start-up (bad values stop the start with
 * a message naming the variable), and the runtime settings an operator may change from the
 * console, read live by the rest of the core.
 *
 * - {@linkcode parseConfig}: environment to {@linkcode Config}.
 * - {@linkcode createSettings} and {@linkcode liveConfig}: saved settings over the environment's
 *   defaults, applied at once in this process and picked up by the others.
 * - {@linkcode parseFallbackEntry}: one `FALLBACK_PROXY_URLS` entry.
 * - {@linkcode findSecretKey}: `SECRET_KEY`, or a generated one kept beside a local KV file.
 * - {@linkcode VERSION}: the product version.
 * @module
 */
export {
  type Config,
  CONFIG_VARIABLES,
  DEFAULT_UPSTREAM_URL,
  type Env,
  parseConfig,
  splitSecrets,
} from "./config.ts";
export {
  type FallbackEntry,
  parseFallbackEntry,
  REGION_HEADER,
  REGION_PARAM,
} from "./fallback_entry.ts";
export { createSettings, liveConfig, type Settings, type SettingsOptions } from "./settings.ts";
export {
  type ForcedSettings,
  type RuntimeSettings,
  SETTING_SCHEMAS,
  SETTING_VARIABLES,
  type SettingName,
  type SettingsPatch,
  settingsPatchSchema,
} from "./settings_schema.ts";
export { findSecretKey, type FoundSecret, onDenoDeploy, type SecretFiles } from "./secret_key.ts";
export { VERSION } from "./version.ts";
