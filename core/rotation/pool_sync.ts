/**
 * Keeps rotation state shared between processes without touching the hot path: request counts,
 * cooldowns, disabled keys and last-used/last-error facts are queued in memory and written to the
 * store in batches; other processes' counts are read back while this one serves, and their
 * cooldowns when the store's cooldown version moves (the change tracker calls
 * {@linkcode PoolSync.reloadCooldowns}).
 * @module
 */
import { isKeyVerdict, type Verdict } from "./classify.ts";
import type { KeyPool } from "./key_pool.ts";
import type { Logger } from "../logs/mod.ts";
import type { ActiveKey, Registry } from "./registry.ts";
import { SerialRuns } from "../utils/mod.ts";
import {
  type CooldownRecord,
  type KeyStateRecord,
  type KeyUsageDelta,
  type Store,
  withEnabled,
} from "../store/mod.ts";

/**
 * Transient failures in a row before a key is rested, each one followed by the same request
 * succeeding on another key (so the request itself was fine).
 */
const UNHEALTHY_STREAK = 5;
const UNHEALTHY_COOLDOWN_MS = 60_000;

/** How often counters and key states are written to the store. */
const FLUSH_INTERVAL_MS = 1000;
/** Pending counters kept under the model name sent before folding starts at once. */
const MAX_PENDING_MODELS = 10_000;
/** How often a key's last-used time is written. */
const LAST_USED_INTERVAL_MS = 5 * 60_000;

/** Options of {@linkcode createPoolSync}. */
export interface PoolSyncOptions {
  /** Backing store. */
  store: Store;
  /** In-memory rotation state. */
  pool: KeyPool;
  /** In-memory key snapshot. */
  registry: Registry;
  /** Clock (epoch ms). */
  now: () => number;
  /** Logger for failed writes. */
  logger: Logger;
  /** Whether other processes' counts are needed (least_used, proactive caps); default true. */
  needsCounts?: () => boolean;
}

/** The queue between the hot path and the store. */
export interface PoolSync {
  /** Counts a request sent with a key (memory now, store on the next sync). */
  countUse(key: ActiveKey, model: string | null): void;
  /** Adds tokens a finished response used. */
  addTokens(key: ActiveKey, model: string | null, tokens: number): void;
  /**
   * Records a successful answer: resets the key's failure streak, and lengthens the streaks of
   * the keys that failed transiently on the same request before it.
   */
  noteSuccess(key: ActiveKey, failedBefore?: readonly TransientFailure[]): void;
  /**
   * Applies a verdict about a key (cooldown or disable) at once in memory, and records it as the
   * key's last error. Other verdicts (the client's errors, transient failures) change nothing.
   */
  noteError(key: ActiveKey, error: KeyError): void;
  /**
   * Every second (or when `force`d) writes queued counters and states, and reads other
   * processes' counts when this process counted requests since the last read. Reads nothing
   * while nothing is queued and no request came. Never throws.
   */
  sync(force?: boolean): Promise<void>;
  /** Reads every stored cooldown into the pool (other processes' verdicts). */
  reloadCooldowns(): Promise<void>;
  /** Resolves when writes started so far have finished. */
  settled(): Promise<void>;
}

/** An error answer a key got. */
export interface KeyError {
  /** The model the request asked for (null: none). */
  model: string | null;
  /** Upstream status. */
  status: number;
  /** The classifier's verdict. */
  verdict: Verdict;
}

/** A transient failure of one key on a request (5xx, timeout, unreachable). */
export interface TransientFailure {
  /** The key that failed. */
  key: ActiveKey;
  /** Upstream status (0 when there was no answer). */
  status: number;
  /** The verdict it got (`retry`). */
  verdict: Verdict;
}

/**
 * The models a quota cooldown is filed under: the one Google names and the one the client asked
 * for (an alias or version of it), so picks for either skip the key. `*` (every model) only when
 * the request named no model.
 */
function cooldownModels(requested: string | null, named: string | undefined): string[] {
  const models = new Set<string>();
  if (named && named !== "*") models.add(named);
  if (requested && requested !== "*") models.add(requested);
  if (models.size === 0 && requested === null) models.add("*");
  return [...models];
}

/**
 * Creates the queue.
 * @param options Store, pool, registry, clock and logger.
 */
export function createPoolSync(options: PoolSyncOptions): PoolSync {
  return new PoolSyncQueue(options);
}

/** The queue behind {@linkcode createPoolSync}. */
class PoolSyncQueue implements PoolSync {
  #options: PoolSyncOptions;
  #deltas = new Map<string, KeyUsageDelta>();
  #states = new Map<string, KeyStateRecord>();
  #inFlight = new Set<Promise<unknown>>();
  /** Whether a request was counted since other processes' counts were last read. */
  #counted = false;
  #flushedAt = -Infinity;
  #usedWritten = new Map<string, number>();
  /** Consecutive transient failures per key that another key then recovered from. */
  #streaks = new Map<string, number>();
  /** Syncs, one at a time; the argument is `force`. */
  #syncs = new SerialRuns<boolean>((force) => this.#run(force));

  constructor(options: PoolSyncOptions) {
    this.#options = options;
  }

  countUse(key: ActiveKey, model: string | null): void {
    this.#options.pool.countRequest(key, model);
    this.#delta(key, model).requests++;
    this.#counted = true;
    const t = this.#options.now();
    // Last-used is informational: written at most every few seconds per key.
    if (t - (this.#usedWritten.get(key.id) ?? -Infinity) >= LAST_USED_INTERVAL_MS) {
      this.#usedWritten.set(key.id, t);
      this.#state(key.id).lastUsedAt = t;
    }
  }

  addTokens(key: ActiveKey, model: string | null, tokens: number): void {
    if (tokens > 0) this.#delta(key, model).tokens += tokens;
  }

  noteSuccess(key: ActiveKey, failedBefore: readonly TransientFailure[] = []): void {
    this.#streaks.delete(key.id);
    for (const failed of failedBefore) {
      if (failed.key.id === key.id) continue;
      const count = (this.#streaks.get(failed.key.id) ?? 0) + 1;
      this.#streaks.set(failed.key.id, count);
      if (count < UNHEALTHY_STREAK) continue;
      this.#streaks.delete(failed.key.id);
      // Rested for every model (no model named): it keeps failing what other keys serve.
      this.noteError(failed.key, {
        model: null,
        status: failed.status,
        verdict: {
          errorClass: failed.verdict.errorClass,
          action: "cooldown",
          until: this.#options.now() + UNHEALTHY_COOLDOWN_MS,
          reason: `UNHEALTHY_${failed.verdict.reason}`,
        },
      });
    }
  }

  noteError(key: ActiveKey, { model, status, verdict }: KeyError): void {
    if (!isKeyVerdict(verdict)) return;
    const { now } = this.#options;
    this.#state(key.id).lastError = {
      at: now(),
      status,
      errorClass: verdict.errorClass,
      reason: verdict.reason,
    };
    if (verdict.action === "cooldown" && verdict.until !== undefined) {
      this.#rest(key, { requested: model, verdict: { ...verdict, until: verdict.until } });
    } else if (verdict.action === "disable") this.#retire(key, verdict.reason);
  }

  sync(force = false): Promise<void> {
    // A forced sync (shutdown, tests) must write what was queued when it was asked for: one on its
    // way took its batch before, so another follows it. A timer's sync shares any.
    return force ? this.#syncs.fresh(true) : this.#syncs.join(false);
  }

  async reloadCooldowns(): Promise<void> {
    const { store, pool } = this.#options;
    for (const c of await store.listCooldowns()) pool.applyCooldown(c);
  }

  async settled(): Promise<void> {
    while (this.#inFlight.size) await Promise.all(this.#inFlight);
  }

  /** Files a quota cooldown here and in the store. */
  #rest(key: ActiveKey, quota: { requested: string | null; verdict: Verdict & { until: number } }) {
    const { pool, store } = this.#options;
    const { verdict } = quota;
    for (const m of cooldownModels(quota.requested, verdict.model)) {
      const cooldown: CooldownRecord = {
        scope: pool.scopeOf(key),
        model: m,
        until: verdict.until,
        reason: verdict.reason,
      };
      pool.applyCooldown(cooldown);
      this.#track(store.setCooldown(cooldown), "cooldown");
    }
  }

  /** Disables a key Google retired, here at once and in the store. */
  #retire(key: ActiveKey, reason: string): void {
    const { registry, store, now, logger } = this.#options;
    const written = store.setKeyEnabled(key.id, false, { reason, at: now() });
    registry.patchKey(withEnabled(key.record, { enabled: false, reason, at: now() }), written);
    this.#track(written, "disable key");
    logger.log("warn", "key disabled", { key: key.record.masked, reason });
  }

  async #run(force: boolean): Promise<void> {
    const { store, pool, now, logger } = this.#options;
    try {
      if (!force && now() - this.#flushedAt < FLUSH_INTERVAL_MS) return;
      this.#flushedAt = now();
      const batch = folded(this.#deltas.values(), (model) => pool.modelSlot(model));
      const stateBatch = [...this.#states.values()];
      this.#deltas = new Map();
      this.#states = new Map();
      if (batch.length) await store.addKeyUsage(batch);
      if (stateBatch.length) await store.putKeyStates(stateBatch);
      // Other processes' counts matter only to strategies that read them, and only to an
      // instance that serves: an idle one reads them again with its next request's sync.
      if ((this.#counted || force) && (this.#options.needsCounts?.() ?? true)) {
        this.#counted = false;
        pool.mergeCounts(await store.readKeyUsage(now()));
      }
    } catch (error) {
      logger.log("warn", "rotation state sync failed", { error });
    }
  }

  #track(promise: Promise<unknown>, what: string): void {
    const p = promise.catch((error) =>
      this.#options.logger.log("warn", `store write failed: ${what}`, { error })
    );
    this.#inFlight.add(p);
    p.finally(() => this.#inFlight.delete(p));
  }

  #delta(key: ActiveKey, model: string | null): KeyUsageDelta {
    // Kept by the name sent until the flush folds it (a model is confirmed by the answer that
    // comes after its first request is counted); past a bound, folded at once.
    const name = this.#deltas.size < MAX_PENDING_MODELS
      ? model ?? "*"
      : this.#options.pool.modelSlot(model);
    const id = `${key.id}\u0000${name}`;
    let d = this.#deltas.get(id);
    if (!d) {
      d = { keyId: key.id, model: name, requests: 0, tokens: 0, at: this.#options.now() };
      this.#deltas.set(id, d);
    }
    return d;
  }

  #state(keyId: string): KeyStateRecord {
    let s = this.#states.get(keyId);
    if (!s) this.#states.set(keyId, s = { keyId });
    return s;
  }
}

/** Deltas under the pool's slots: models upstream never confirmed share one row per key. */
function folded(
  pending: Iterable<KeyUsageDelta>,
  slotOf: (model: string) => string,
): KeyUsageDelta[] {
  const out = new Map<string, KeyUsageDelta>();
  for (const d of pending) {
    const model = d.model === "*" ? "*" : slotOf(d.model);
    const id = `${d.keyId}\u0000${model}`;
    const seen = out.get(id);
    if (!seen) out.set(id, { ...d, model });
    else {
      seen.requests += d.requests;
      seen.tokens += d.tokens;
      seen.at = Math.max(seen.at, d.at);
    }
  }
  return [...out.values()];
}
