/**
 * Key rotation: which Gemini key serves the next request, held in memory so that picking one never
 * waits on the store, and shared with other processes in the background.
 *
 * - {@linkcode createStoreChanges}: the one tracker of what changed in the store; it probes the
 *   store's versions for a request or a change signal (never while idle) and reloads the caches.
 * - {@linkcode createRegistry}: the in-memory snapshot of keys (opened) and tokens, reloaded when
 *   the store's version changes ({@linkcode createFreshness} bounds its age).
 * - {@linkcode createKeyPool}: cooldowns, request counts and the strategies (round robin, least
 *   used, weighted); {@linkcode createModelBook}: which model names get state of their own.
 * - {@linkcode classifyUpstream}: Google's verdict on a key, read only from the structured parts
 *   of its answer.
 * - {@linkcode createPoolSync}: writes cooldowns, counts and disabled keys to the store in
 *   batches and reads other processes' back.
 * - {@linkcode createAffinity}: resources pinned to the key whose project owns them.
 * - {@linkcode validateKeys}: re-checks keys against Google.
 * @module
 */
export {
  type Affinity,
  createAffinity,
  createdResources,
  DEFAULT_AFFINITY_TTL_MS,
  resourcesInBody,
} from "./affinity.ts";
export {
  classifyFailure,
  type ClassifyOptions,
  classifyUpstream,
  type ErrorClass,
  isKeyVerdict,
  type Verdict,
} from "./classify.ts";
export { createFreshness, type Freshness, type FreshnessOptions } from "./freshness.ts";
export {
  type Cooldown,
  createKeyPool,
  type KeyPool,
  type KeyPoolOptions,
  type Pick,
  type Strategy,
  type UsageTotal,
} from "./key_pool.ts";
export {
  configuredModels,
  type ConfiguredSources,
  CONFIRMED_MODELS_MAX,
  createModelBook,
  type ModelBook,
  type ModelBookOptions,
  OTHER_MODEL,
} from "./model_book.ts";
export {
  createPoolSync,
  type KeyError,
  type PoolSync,
  type PoolSyncOptions,
  type TransientFailure,
} from "./pool_sync.ts";
export { type ActiveKey, createRegistry, type Registry, type RegistryOptions } from "./registry.ts";
export {
  type ChangeTopic,
  createStoreChanges,
  type StoreChanges,
  type StoreChangesOptions,
} from "./store_changes.ts";
export {
  DISABLED_BY_ADMIN,
  revalidationCandidates,
  validateKeys,
  type ValidateOptions,
  type ValidationResult,
} from "./revalidate.ts";
