/**
 * Rotation state held in memory: cooldowns per key (or project) and model, request counts per
 * window, and the selection strategies. Every read is synchronous so that picking a key never
 * waits on the store; the store is told about changes in the background.
 * @module
 */
import { aliasTable } from "./alias_table.ts";
import { configuredModels, createModelBook, type ModelBook } from "./model_book.ts";
import type { ActiveKey, Registry } from "./registry.ts";
import { pacificDay } from "./pacific_time.ts";
import { type KeyCapsView, type KeyLimit, keyLimitFor, type KeyLimits } from "./limits/key_caps.ts";

/** Selection strategy names. */
export type Strategy = "round_robin" | "least_used" | "weighted";

export type { KeyLimit, KeyLimits } from "./limits/key_caps.ts";

/** A cooldown: a key or project may not serve a model until a moment. */
export interface Cooldown {
  /** `k:<keyId>` or `p:<project>`. */
  scope: string;
  /** Model id, or `*` for every model. */
  model: string;
  /** Epoch ms when it ends. */
  until: number;
  /** Why (quotaId or reason). */
  reason: string;
}

/** The outcome of {@linkcode KeyPool.pick}. */
export type Pick =
  | { key: ActiveKey; earliest?: undefined }
  | { key: null; earliest: number | null };

/** Options of {@linkcode createKeyPool}. */
export interface KeyPoolOptions {
  /** Clock (epoch ms). */
  now: () => number;
  /** Current strategy (read on every pick, so settings apply at once). */
  strategy: () => Strategy;
  /** Default proactive limits by model, applied to keys without their own. */
  limits?: () => KeyLimits;
  /** Where capped keys are known (shared across processes); without it no key is capped. */
  caps?: KeyCapsView;
  /** Random source in [0, 1) (default `Math.random`). */
  random?: () => number;
  /**
   * Models with state of their own; the others share one counter slot. Default: the models named
   * in `limits` and in keys' own limits.
   */
  models?: ModelBook;
}

/** Rotation state and selection. */
export interface KeyPool {
  /**
   * Picks a key that may serve `model`, skipping disabled, cooling, capped and excluded keys.
   * @returns The key, or null with the earliest moment a key frees up (null if none will).
   */
  pick(model: string | null, exclude?: ReadonlySet<string>): Pick;
  /** Epoch ms until which the key may not serve the model (0 when free). */
  coolingUntil(key: ActiveKey, model: string | null): number;
  /** Records a cooldown learnt here or from another process. */
  applyCooldown(cooldown: Cooldown): void;
  /** The scope a key's cooldowns apply to: its project when labelled, else itself. */
  scopeOf(key: ActiveKey): string;
  /** Active cooldowns (expired ones are dropped). */
  cooldowns(): Cooldown[];
  /** Counts a request sent with a key for a model. */
  countRequest(key: ActiveKey, model: string | null): void;
  /** Replaces counts with totals read from the store (all processes), for the current windows. */
  mergeCounts(totals: UsageTotal[]): void;
  /** Requests counted for a key and model in the current minute and Pacific day. */
  counts(keyId: string, model: string | null): { minute: number; day: number };
  /** The name a model's counters are kept under: itself when known, `other` if not, `*` for none. */
  modelSlot(model: string | null): string;
  /** Entries held in per-model maps (for tests of their bounds). */
  stateSize(): { ready: number; counters: number; cooling: number };
}

/** Requests of one key and model in the current windows, as summed in the store. */
export interface UsageTotal {
  /** Key id. */
  keyId: string;
  /** Model id (`*` when the request named none). */
  model: string;
  /** Requests this minute. */
  minute: number;
  /** Requests this Pacific day. */
  day: number;
}

let lastDefaults: KeyLimits | undefined;
let lastDefaultsHasEntries = false;

/** Whether a limits object has any entry (remembered for the last object seen). */
function hasEntries(defaults: KeyLimits | undefined): boolean {
  if (defaults !== lastDefaults) {
    lastDefaults = defaults;
    lastDefaultsHasEntries = defaults !== undefined && Object.keys(defaults).length > 0;
  }
  return lastDefaultsHasEntries;
}

/** The keys free to serve one model, cached until something changes. */
interface Ready {
  keys: ActiveKey[];
  source: readonly ActiveKey[];
  coolingVersion: number;
  validUntil: number;
  /** Whether any key of the list has caps of its own (else, only defaults can cap). */
  anyOwnLimits: boolean;
  alias?: { prob: Float64Array; alias: Int32Array };
}

/** Most ready lists cached; they are rebuilt on demand, so dropping them all is safe. */
const READY_MAX = 256;

interface Counter {
  minuteBucket: number;
  minute: number;
  day: string;
  dayCount: number;
}

/**
 * Creates the rotation state for a registry's keys.
 * @param registry Source of keys.
 * @param options Clock, strategy and limits.
 */
export function createKeyPool(registry: Registry, options: KeyPoolOptions): KeyPool {
  const random = options.random ?? Math.random;
  const models = options.models ??
    createModelBook({
      configured: configuredModels(() => ({ limits: options.limits?.(), keys: registry.keys })),
    });
  /** Cooldowns by model (`*` for all), then by scope: two small lookups per candidate. */
  const cooling = new Map<string, Map<string, Cooldown>>();
  /** Request counters by model, then by key id. */
  const counters = new Map<string, Map<string, Counter>>();
  const scopes = new WeakMap<ActiveKey["record"], string>();
  let cursor = 0;
  /** Bumped whenever a cooldown is added or dropped: ready lists are rebuilt after it. */
  let coolingVersion = 0;
  /**
   * Per model, the enabled keys not resting for it. Rebuilt only when keys or cooldowns change or
   * the first of its cooldowns ends, so a pick never walks past resting keys: its cost does not
   * grow with the pool or the share of keys resting.
   */
  const ready = new Map<string, Ready>();

  function modelSlot(model: string | null): string {
    return model === null ? "*" : models.fold(model);
  }

  function availableFor(model: string | null): Ready {
    // A model without cooldowns of its own has the same ready list as every other such model.
    if (model !== null && !cooling.has(model)) model = null;
    const m = model ?? "*";
    const source = registry.enabledKeys;
    let entry = ready.get(m);
    if (
      entry && entry.source === source && entry.coolingVersion === coolingVersion &&
      (entry.validUntil === Infinity || entry.validUntil > options.now())
    ) return entry;
    const now = options.now();
    const keys: ActiveKey[] = [];
    let validUntil = Infinity;
    for (const key of source) {
      const until = coolingUntil(key, model, now);
      if (until === 0) keys.push(key);
      else if (until < validUntil) validUntil = until;
    }
    entry = {
      keys,
      source,
      coolingVersion,
      validUntil,
      anyOwnLimits: keys.some((k) => k.record.limits !== undefined),
    };
    if (ready.size >= READY_MAX && !ready.has(m)) ready.clear();
    ready.set(m, entry);
    return entry;
  }

  function scopeOf(key: ActiveKey): string {
    let scope = scopes.get(key.record);
    if (scope === undefined) {
      scope = key.record.project ? `p:${key.record.project}` : `k:${key.id}`;
      scopes.set(key.record, scope);
    }
    return scope;
  }
  function coolingUntil(key: ActiveKey, model: string | null, now = options.now()): number {
    if (cooling.size === 0) return 0;
    const scope = scopeOf(key);
    const forModel = model === null ? undefined : cooling.get(model)?.get(scope);
    const forAll = cooling.get("*")?.get(scope);
    let until = 0;
    if (forModel && forModel.until > now) until = forModel.until;
    if (forAll && forAll.until > now && forAll.until > until) until = forAll.until;
    return until;
  }
  function counter(keyId: string, model: string | null, now = options.now()): Counter {
    const m = modelSlot(model);
    let byKey = counters.get(m);
    if (!byKey) counters.set(m, byKey = new Map());
    const bucket = Math.floor(now / 60_000);
    let c = byKey.get(keyId);
    if (!c) {
      c = { minuteBucket: bucket, minute: 0, day: pacificDay(now), dayCount: 0 };
      byKey.set(keyId, c);
    }
    if (c.minuteBucket !== bucket) {
      c.minuteBucket = bucket;
      c.minute = 0;
      const day = pacificDay(now);
      if (day !== c.day) {
        c.day = day;
        c.dayCount = 0;
      }
    }
    return c;
  }
  function limitFor(
    key: ActiveKey,
    model: string | null,
    defaults = options.limits?.(),
  ): KeyLimit | undefined {
    return keyLimitFor(key.record, model, defaults);
  }
  /** Epoch ms until which a cap keeps the key from the model (0: not capped). */
  function cappedUntil(
    key: ActiveKey,
    model: string | null,
    now = options.now(),
    defaults = options.limits?.(),
  ): number {
    const limit = limitFor(key, model, defaults);
    if (!limit || !options.caps) return 0;
    return options.caps.cappedUntil(key, model, limit, now || options.now());
  }
  function capped(
    key: ActiveKey,
    model: string | null,
    now = options.now(),
    defaults = options.limits?.(),
  ): boolean {
    return cappedUntil(key, model, now, defaults) > 0;
  }
  /**
   * Whether a key from a ready list (already free of cooldowns) may serve the model now;
   * `now` and `defaults` are read once per pick.
   */
  function usable(
    key: ActiveKey,
    model: string | null,
    exclude: ReadonlySet<string> | undefined,
    now: number,
    defaults: KeyLimits | undefined,
  ): boolean {
    return !exclude?.has(key.id) && !capped(key, model, now, defaults);
  }
  function earliestFree(
    keys: readonly ActiveKey[],
    model: string | null,
    exclude?: ReadonlySet<string>,
  ): number | null {
    let earliest: number | null = null;
    for (const key of keys) {
      if (exclude?.has(key.id)) continue;
      const free = Math.max(coolingUntil(key, model), cappedUntil(key, model));
      if (Number.isFinite(free) && (earliest === null || free < earliest)) earliest = free;
    }
    return earliest;
  }
  function scanFrom(
    start: number,
    keys: readonly ActiveKey[],
    model: string | null,
    exclude?: ReadonlySet<string>,
    anyOwnLimits = true,
  ): number {
    const defaults = options.limits?.();
    // Without caps or exclusions every ready key is usable: no key record is even read, so the
    // cost does not depend on the pool's size.
    if (!exclude?.size && !anyOwnLimits && !hasEntries(defaults)) {
      return keys.length > 0 ? start % keys.length : -1;
    }
    // The clock is read only when a cap needs it (see `capped`).
    const now = 0;
    for (let i = 0; i < keys.length; i++) {
      const index = (start + i) % keys.length;
      if (usable(keys[index]!, model, exclude, now, defaults)) return index;
    }
    return -1;
  }

  return {
    scopeOf,
    coolingUntil,
    pick(model, exclude) {
      const enabled = registry.enabledKeys;
      if (enabled.length === 0) return { key: null, earliest: null };
      const ready = availableFor(model);
      const keys = ready.keys;
      if (keys.length === 0) return { key: null, earliest: earliestFree(enabled, model, exclude) };
      const strategy = options.strategy();
      let index = -1;
      if (strategy === "least_used" && keys.length > 2) {
        // Two random choices, the less used wins: near-optimal balance at constant cost.
        const a = scanFrom(
          Math.floor(random() * keys.length),
          keys,
          model,
          exclude,
          ready.anyOwnLimits,
        );
        const offset = 1 + Math.floor(random() * (keys.length - 1));
        const b = a < 0
          ? -1
          : scanFrom((a + offset) % keys.length, keys, model, exclude, ready.anyOwnLimits);
        if (a >= 0 && b >= 0) {
          index = counter(keys[a]!.id, model).minute <= counter(keys[b]!.id, model).minute ? a : b;
        } else index = a >= 0 ? a : b;
      } else if (strategy === "weighted") {
        ready.alias ??= aliasTable(keys.map((key) => Math.max(0, key.record.weight ?? 1)));
        const { prob, alias } = ready.alias;
        // Walker's alias method: one random slot, one biased coin; constant cost at any size.
        const slot = Math.floor(random() * keys.length);
        const lo = random() < prob[slot]! ? slot : alias[slot]!;
        index = scanFrom(lo, keys, model, exclude, ready.anyOwnLimits);
      } else {
        index = scanFrom(cursor % keys.length, keys, model, exclude, ready.anyOwnLimits);
        if (index >= 0) cursor = (index + 1) % keys.length;
      }
      if (index < 0) return { key: null, earliest: earliestFree(enabled, model, exclude) };
      return { key: keys[index]! };
    },
    applyCooldown(cooldown) {
      let byScope = cooling.get(cooldown.model);
      if (!byScope) cooling.set(cooldown.model, byScope = new Map());
      const existing = byScope.get(cooldown.scope);
      if (!existing || existing.until < cooldown.until) {
        byScope.set(cooldown.scope, cooldown);
        coolingVersion++;
      }
    },
    cooldowns() {
      const now = options.now();
      const out: Cooldown[] = [];
      for (const [model, byScope] of cooling) {
        for (const [scope, c] of byScope) {
          if (c.until <= now) byScope.delete(scope);
          else out.push(c);
        }
        if (byScope.size === 0) {
          cooling.delete(model);
          ready.delete(model);
        }
      }
      return out;
    },
    countRequest(key, model) {
      const c = counter(key.id, model);
      c.minute++;
      c.dayCount++;
    },
    mergeCounts(totals) {
      for (const t of totals) {
        const c = counter(t.keyId, t.model === "*" ? null : t.model);
        c.minute = Math.max(c.minute, t.minute);
        c.dayCount = Math.max(c.dayCount, t.day);
      }
    },
    counts(keyId, model) {
      const c = counter(keyId, model);
      return { minute: c.minute, day: c.dayCount };
    },
    modelSlot,
    stateSize() {
      let entries = 0;
      for (const byKey of counters.values()) entries += byKey.size;
      return { ready: ready.size, counters: entries, cooling: cooling.size };
    },
  };
}
