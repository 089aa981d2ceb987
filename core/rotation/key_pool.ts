/**
 * Rotation state held in memory: cooldowns per key (or project) and model, request counts per
 * window, and the selection strategies. Every read is synchronous so that picking a key never
 * waits on the store; the store is told about changes in the background.
 * @module
 */
import { aliasTable } from "./alias_table.ts";
import { configuredModels, createModelBook, type ModelBook } from "./model_book.ts";
import type { ActiveKey, Registry } from "./registry.ts";
import { type CappedKey, type KeyCapsView, keyLimitFor, type KeyLimits } from "../limits/mod.ts";
import { KeyCounters, type UsageTotal } from "./key_counters.ts";

/** Selection strategy names. */
export type Strategy = "round_robin" | "least_used" | "weighted";

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
  scopeOf(key: CappedKey): string;
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

export type { UsageTotal };

/** The last limits object seen, and whether it has any entry. */
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

/**
 * One pick's view: the model, the keys passed over, the default caps read once, and the clock,
 * read only when a cap needs it (undefined until then).
 */
interface Scan {
  model: string | null;
  exclude: ReadonlySet<string> | undefined;
  defaults: KeyLimits | undefined;
  now: number | undefined;
}

/**
 * Creates the rotation state for a registry's keys.
 * @param registry Source of keys.
 * @param options Clock, strategy and limits.
 */
export function createKeyPool(registry: Registry, options: KeyPoolOptions): KeyPool {
  return new RotationPool(registry, options);
}

/** The pool behind {@linkcode createKeyPool}. */
class RotationPool implements KeyPool {
  #registry: Registry;
  #options: KeyPoolOptions;
  #random: () => number;
  #models: ModelBook;
  /** Cooldowns by model (`*` for all), then by scope: two small lookups per candidate. */
  #cooling = new Map<string, Map<string, Cooldown>>();
  #counters: KeyCounters;
  #scopes = new WeakMap<ActiveKey["record"], string>();
  #cursor = 0;
  /** Bumped whenever a cooldown is added or dropped: ready lists are rebuilt after it. */
  #coolingVersion = 0;
  /**
   * Per model, the enabled keys not resting for it. Rebuilt only when keys or cooldowns change or
   * the first of its cooldowns ends, so a pick never walks past resting keys: its cost does not
   * grow with the pool or the share of keys resting.
   */
  #ready = new Map<string, Ready>();

  constructor(registry: Registry, options: KeyPoolOptions) {
    this.#registry = registry;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#models = options.models ??
      createModelBook({
        configured: configuredModels(() => ({ limits: options.limits?.(), keys: registry.keys })),
      });
    this.#counters = new KeyCounters(options.now);
  }

  modelSlot(model: string | null): string {
    return model === null ? "*" : this.#models.fold(model);
  }

  scopeOf(key: CappedKey): string {
    let scope = this.#scopes.get(key.record);
    if (scope === undefined) {
      scope = key.record.project ? `p:${key.record.project}` : `k:${key.id}`;
      this.#scopes.set(key.record, scope);
    }
    return scope;
  }

  coolingUntil(key: ActiveKey, model: string | null, now = this.#options.now()): number {
    if (this.#cooling.size === 0) return 0;
    const scope = this.scopeOf(key);
    const forModel = model === null ? undefined : this.#cooling.get(model)?.get(scope);
    const forAll = this.#cooling.get("*")?.get(scope);
    let until = 0;
    if (forModel && forModel.until > now) until = forModel.until;
    if (forAll && forAll.until > now && forAll.until > until) until = forAll.until;
    return until;
  }

  pick(model: string | null, exclude?: ReadonlySet<string>): Pick {
    const enabled = this.#registry.enabledKeys;
    if (enabled.length === 0) return { key: null, earliest: null };
    const ready = this.#availableFor(model);
    const keys = ready.keys;
    const scan: Scan = { model, exclude, defaults: this.#options.limits?.(), now: undefined };
    if (keys.length === 0) return { key: null, earliest: this.#earliestFree(enabled, scan) };
    const strategy = this.#options.strategy();
    const index = strategy === "least_used" && keys.length > 2
      ? this.#leastUsed(ready, scan)
      : strategy === "weighted"
      ? this.#weighted(ready, scan)
      : this.#roundRobin(ready, scan);
    if (index < 0) return { key: null, earliest: this.#earliestFree(enabled, scan) };
    return { key: keys[index]! };
  }

  applyCooldown(cooldown: Cooldown): void {
    let byScope = this.#cooling.get(cooldown.model);
    if (!byScope) this.#cooling.set(cooldown.model, byScope = new Map());
    const existing = byScope.get(cooldown.scope);
    if (!existing || existing.until < cooldown.until) {
      byScope.set(cooldown.scope, cooldown);
      this.#coolingVersion++;
    }
  }

  cooldowns(): Cooldown[] {
    const now = this.#options.now();
    const out: Cooldown[] = [];
    for (const [model, byScope] of this.#cooling) {
      for (const [scope, c] of byScope) {
        if (c.until <= now) byScope.delete(scope);
        else out.push(c);
      }
      if (byScope.size === 0) {
        this.#cooling.delete(model);
        this.#ready.delete(model);
      }
    }
    return out;
  }

  countRequest(key: ActiveKey, model: string | null): void {
    this.#counters.count(key.id, this.modelSlot(model));
  }

  mergeCounts(totals: UsageTotal[]): void {
    this.#counters.merge(totals, (model) => this.modelSlot(model));
  }

  counts(keyId: string, model: string | null): { minute: number; day: number } {
    const c = this.#counters.counter(keyId, this.modelSlot(model));
    return { minute: c.minute, day: c.dayCount };
  }

  stateSize(): { ready: number; counters: number; cooling: number } {
    return { ready: this.#ready.size, counters: this.#counters.size, cooling: this.#cooling.size };
  }

  /** The ready list of a model, rebuilt when keys or cooldowns changed or a cooldown ended. */
  #availableFor(model: string | null): Ready {
    // A model without cooldowns of its own has the same ready list as every other such model.
    if (model !== null && !this.#cooling.has(model)) model = null;
    const m = model ?? "*";
    const source = this.#registry.enabledKeys;
    const entry = this.#ready.get(m);
    if (
      entry && entry.source === source && entry.coolingVersion === this.#coolingVersion &&
      (entry.validUntil === Infinity || entry.validUntil > this.#options.now())
    ) return entry;
    const fresh = this.#readyList(model, source);
    if (this.#ready.size >= READY_MAX && !this.#ready.has(m)) this.#ready.clear();
    this.#ready.set(m, fresh);
    return fresh;
  }

  #readyList(model: string | null, source: readonly ActiveKey[]): Ready {
    const now = this.#options.now();
    const keys: ActiveKey[] = [];
    let validUntil = Infinity;
    for (const key of source) {
      const until = this.coolingUntil(key, model, now);
      if (until === 0) keys.push(key);
      else if (until < validUntil) validUntil = until;
    }
    return {
      keys,
      source,
      coolingVersion: this.#coolingVersion,
      validUntil,
      anyOwnLimits: keys.some((k) => k.record.limits !== undefined),
    };
  }

  /** Two random choices, the less used wins: near-optimal balance at constant cost. */
  #leastUsed(ready: Ready, scan: Scan): number {
    const { keys } = ready;
    const a = this.#scanFrom(Math.floor(this.#random() * keys.length), ready, scan);
    const offset = 1 + Math.floor(this.#random() * (keys.length - 1));
    const b = a < 0 ? -1 : this.#scanFrom((a + offset) % keys.length, ready, scan);
    if (a < 0 || b < 0) return a >= 0 ? a : b;
    const slot = this.modelSlot(scan.model);
    const usedA = this.#counters.counter(keys[a]!.id, slot).minute;
    return usedA <= this.#counters.counter(keys[b]!.id, slot).minute ? a : b;
  }

  /** Walker's alias method: one random slot, one biased coin; constant cost at any size. */
  #weighted(ready: Ready, scan: Scan): number {
    const { keys } = ready;
    ready.alias ??= aliasTable(keys.map((key) => Math.max(0, key.record.weight ?? 1)));
    const { prob, alias } = ready.alias;
    const slot = Math.floor(this.#random() * keys.length);
    const lo = this.#random() < prob[slot]! ? slot : alias[slot]!;
    return this.#scanFrom(lo, ready, scan);
  }

  #roundRobin(ready: Ready, scan: Scan): number {
    const index = this.#scanFrom(this.#cursor % ready.keys.length, ready, scan);
    if (index >= 0) this.#cursor = (index + 1) % ready.keys.length;
    return index;
  }

  /** The first usable key of a ready list from a position on, or -1. */
  #scanFrom(start: number, ready: Ready, scan: Scan): number {
    const { keys } = ready;
    // Without caps or exclusions every ready key is usable: no key record is even read, so the
    // cost does not depend on the pool's size.
    if (!scan.exclude?.size && !ready.anyOwnLimits && !hasEntries(scan.defaults)) {
      return keys.length > 0 ? start % keys.length : -1;
    }
    for (let i = 0; i < keys.length; i++) {
      const index = (start + i) % keys.length;
      const key = keys[index]!;
      if (!scan.exclude?.has(key.id) && this.#cappedUntil(key, scan) === 0) return index;
    }
    return -1;
  }

  /** Epoch ms until which a cap keeps the key from the scan's model (0: not capped). */
  #cappedUntil(key: ActiveKey, scan: Scan): number {
    const limit = keyLimitFor(key.record, scan.model, scan.defaults);
    if (!limit || !this.#options.caps) return 0;
    // The clock is read only when a cap needs it, once per pick.
    scan.now ??= this.#options.now();
    return this.#options.caps.cappedUntil(key, { model: scan.model, limit, now: scan.now });
  }

  /** When the first key (not passed over) frees up from its cooldown and caps. */
  #earliestFree(keys: readonly ActiveKey[], scan: Scan): number | null {
    let earliest: number | null = null;
    for (const key of keys) {
      if (scan.exclude?.has(key.id)) continue;
      const free = Math.max(
        this.coolingUntil(key, scan.model),
        this.#cappedUntil(key, { ...scan, now: this.#options.now() }),
      );
      if (Number.isFinite(free) && (earliest === null || free < earliest)) earliest = free;
    }
    return earliest;
  }
}
