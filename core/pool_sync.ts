/**
 * Keeps rotation state shared between processes without touching the hot path: request counts,
 * cooldowns, disabled keys and last-used/last-error facts are queued in memory and written to the
 * store in batches; other processes' cooldowns and counts are read back on each sync.
 * @module
 */
import { isKeyVerdict, type Verdict } from "./classify.ts";
import type { KeyPool } from "./key_pool.ts";
import type { Logger } from "./logger.ts";
import type { ActiveKey, Registry } from "./registry.ts";
import { withEnabled } from "./store/memory_store.ts";
import type { CooldownRecord, KeyStateRecord, KeyUsageDelta, Store } from "./store/store.ts";

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
  noteError(key: ActiveKey, model: string | null, status: number, verdict: Verdict): void;
  /**
   * Reads other processes' cooldowns; every second (or when `force`d) also writes queued counters
   * and reads other processes' counts. Never throws.
   */
  sync(force?: boolean): Promise<void>;
  /** Resolves when writes started so far have finished. */
  settled(): Promise<void>;
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
  const { store, pool, registry, now, logger } = options;
  let deltas = new Map<string, KeyUsageDelta>();
  let states = new Map<string, KeyStateRecord>();
  const inFlight = new Set<Promise<unknown>>();
  let cooldownVersion = "";
  let flushedAt = -Infinity;
  const usedWritten = new Map<string, number>();
  /** Consecutive transient failures per key that another key then recovered from. */
  const streaks = new Map<string, number>();
  let syncing: Promise<void> | null = null;

  function track(promise: Promise<unknown>, what: string): void {
    const p = promise.catch((error) =>
      logger.log("warn", `store write failed: ${what}`, { error })
    );
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  }
  function delta(key: ActiveKey, model: string | null): KeyUsageDelta {
    // Kept by the name sent until the flush folds it (a model is confirmed by the answer that
    // comes after its first request is counted); past a bound, folded at once.
    const name = deltas.size < MAX_PENDING_MODELS ? model ?? "*" : pool.modelSlot(model);
    const id = `${key.id}\u0000${name}`;
    let d = deltas.get(id);
    if (!d) {
      d = { keyId: key.id, model: name, requests: 0, tokens: 0, at: now() };
      deltas.set(id, d);
    }
    return d;
  }
  function state(keyId: string): KeyStateRecord {
    let s = states.get(keyId);
    if (!s) states.set(keyId, s = { keyId });
    return s;
  }

  async function run(force: boolean): Promise<void> {
    try {
      // Cooldowns must reach every process quickly; counters can travel in larger batches.
      const version = await store.cooldownVersion();
      if (version !== cooldownVersion) {
        for (const c of await store.listCooldowns()) pool.applyCooldown(c);
        cooldownVersion = version;
      }
      if (!force && now() - flushedAt < FLUSH_INTERVAL_MS) return;
      flushedAt = now();
      const batch = folded(deltas.values());
      const stateBatch = [...states.values()];
      deltas = new Map();
      states = new Map();
      if (batch.length) await store.addKeyUsage(batch);
      if (stateBatch.length) await store.putKeyStates(stateBatch);
      // Other processes' counts matter only to strategies and caps that read them.
      if (options.needsCounts?.() ?? true) pool.mergeCounts(await store.readKeyUsage(now()));
    } catch (error) {
      logger.log("warn", "rotation state sync failed", { error });
    }
  }

  /** Deltas under the pool's slots: models upstream never confirmed share one row per key. */
  function folded(pending: Iterable<KeyUsageDelta>): KeyUsageDelta[] {
    const out = new Map<string, KeyUsageDelta>();
    for (const d of pending) {
      const model = d.model === "*" ? "*" : pool.modelSlot(d.model);
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

  function noteError(
    key: ActiveKey,
    model: string | null,
    status: number,
    verdict: Verdict,
  ): void {
    if (!isKeyVerdict(verdict)) return;
    state(key.id).lastError = {
      at: now(),
      status,
      errorClass: verdict.errorClass,
      reason: verdict.reason,
    };
    if (verdict.action === "cooldown" && verdict.until !== undefined) {
      for (const m of cooldownModels(model, verdict.model)) {
        const cooldown: CooldownRecord = {
          scope: pool.scopeOf(key),
          model: m,
          until: verdict.until,
          reason: verdict.reason,
        };
        pool.applyCooldown(cooldown);
        track(store.setCooldown(cooldown), "cooldown");
      }
    } else if (verdict.action === "disable") {
      registry.patchKey(withEnabled(key.record, false, verdict.reason, now()));
      track(store.setKeyEnabled(key.id, false, verdict.reason, now()), "disable key");
      logger.log("warn", "key disabled", { key: key.record.masked, reason: verdict.reason });
    }
  }

  return {
    countUse(key, model) {
      pool.countRequest(key, model);
      delta(key, model).requests++;
      const t = now();
      // Last-used is informational: written at most every few seconds per key.
      if (t - (usedWritten.get(key.id) ?? -Infinity) >= LAST_USED_INTERVAL_MS) {
        usedWritten.set(key.id, t);
        state(key.id).lastUsedAt = t;
      }
    },
    addTokens(key, model, tokens) {
      if (tokens > 0) delta(key, model).tokens += tokens;
    },
    noteSuccess(key, failedBefore = []) {
      streaks.delete(key.id);
      for (const failed of failedBefore) {
        if (failed.key.id === key.id) continue;
        const count = (streaks.get(failed.key.id) ?? 0) + 1;
        streaks.set(failed.key.id, count);
        if (count < UNHEALTHY_STREAK) continue;
        streaks.delete(failed.key.id);
        // Rested for every model (no model named): it keeps failing what other keys serve.
        noteError(failed.key, null, failed.status, {
          errorClass: failed.verdict.errorClass,
          action: "cooldown",
          until: now() + UNHEALTHY_COOLDOWN_MS,
          reason: `UNHEALTHY_${failed.verdict.reason}`,
        });
      }
    },
    noteError,
    sync(force = false) {
      syncing ??= run(force).finally(() => syncing = null);
      return syncing;
    },
    async settled() {
      while (inFlight.size) await Promise.all(inFlight);
    },
  };
}
