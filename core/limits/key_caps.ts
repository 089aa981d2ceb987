/**
 * Proactive caps on Gemini keys (`KEY_LIMITS`, or a key's own `limits`): requests per minute and
 * per Pacific day for each model, counted per key, or per project when the key has a `project`
 * label (Google counts quota per project). Held with the lease ledger, so the caps hold across
 * every instance sharing the store, and picking a key waits on the store only when this instance
 * holds no capacity for it.
 *
 * A cap is a forecast of Google's own quota, not a promise to a client: when the store cannot be
 * reached, requests are counted as owed and served (Google's 429 still rests the key), where a
 * proxy token's limits refuse instead.
 * @module
 */
import type { Logger } from "../logs/mod.ts";
import type { KeyRecord } from "../store/mod.ts";
import type { Demand, LeaseLedger } from "./lease_ledger.ts";

/** The key a cap applies to: its id and stored record (a rotation's active key is one). */
export interface CappedKey {
  /** Key id. */
  id: string;
  /** The stored record: its own `limits` and `project` label. */
  record: KeyRecord;
}

/** A per-model cap on a key (or its project, when labelled). */
export interface KeyLimit {
  /** Requests per minute. */
  rpm?: number;
  /** Requests per Pacific day. */
  rpd?: number;
}

/** Limits by model id; `*` applies to every model without its own entry. */
export type KeyLimits = Record<string, KeyLimit>;

/** What picking a key needs to know, without waiting. */
export interface KeyCapsView {
  /**
   * When the key (or its project) is known to have nothing left for the model under `limit`:
   * the end of the exhausted window, else 0.
   */
  cappedUntil(key: CappedKey, ask: { model: string | null; limit: KeyLimit; now: number }): number;
}

/** The caps of every key. */
export interface KeyCaps extends KeyCapsView {
  /**
   * Counts one request of the key for the model against its caps.
   * @returns false when a cap is reached (nothing is counted then): at once for a key without
   * caps, else a promise of it.
   */
  take(key: CappedKey, model: string | null): boolean | Promise<boolean>;
  /** Counts a request the key must serve whatever its caps (a resource pinned to it). */
  force(key: CappedKey, model: string | null): void;
}

/** Options of {@linkcode createKeyCaps}. */
export interface KeyCapsOptions {
  /** The instance's leases. */
  ledger: LeaseLedger;
  /** Default caps for keys without their own (read on every use, so settings apply at once). */
  defaults: () => KeyLimits | undefined;
  /** The scope a key's quota belongs to: `p:<project>` when labelled, else `k:<key id>`. */
  scopeOf: (key: CappedKey) => string;
  /** Reports store failures. */
  logger: Logger;
  /**
   * The name a model's counters are kept under (the model when upstream confirmed it, else one
   * shared name), so invented names neither add counters nor dodge a cap; default: the model.
   */
  foldModel?: (model: string) => string;
}

/** Longest model name kept whole in a counter name; longer ones are shortened and hashed. */
const MAX_MODEL_CHARS = 100;

/**
 * The cap that applies to a key for a model: the key's own entry for the model, its `*` entry,
 * then the defaults' entry for the model, then their `*` entry.
 * @param record The key's stored record.
 * @param model The model (null: the request named none).
 * @param defaults `KEY_LIMITS`.
 */
export function keyLimitFor(
  record: Pick<KeyRecord, "limits">,
  model: string | null,
  defaults: KeyLimits | undefined,
): KeyLimit | undefined {
  const own = record.limits;
  const m = model ?? "*";
  return own?.[m] ?? own?.["*"] ?? defaults?.[m] ?? defaults?.["*"];
}

/**
 * Creates the caps.
 * @param options Ledger, defaults, scopes and logger.
 */
export function createKeyCaps(options: KeyCapsOptions): KeyCaps {
  const { ledger, logger } = options;

  function demands(key: CappedKey, model: string | null, limit: KeyLimit): Demand[] {
    // The scope's length keeps every (scope, model) pair apart, whatever characters they hold.
    const scope = options.scopeOf(key);
    const named = model === null ? null : options.foldModel?.(model) ?? model;
    const base = `k${scope.length}:${scope}${counterModel(named)}`;
    const out: Demand[] = [];
    if (limit.rpm !== undefined) {
      out.push({ counter: `${base}:rpm`, kind: "minute", cap: limit.rpm, want: 1 });
    }
    if (limit.rpd !== undefined) {
      out.push({ counter: `${base}:rpd`, kind: "day", cap: limit.rpd, want: 1 });
    }
    return out;
  }

  function demandsFor(key: CappedKey, model: string | null): Demand[] {
    const limit = keyLimitFor(key.record, model, options.defaults());
    return limit ? demands(key, model, limit) : [];
  }

  return {
    cappedUntil(key, { model, limit, now }) {
      let until = 0;
      for (const demand of demands(key, model, limit)) {
        until = Math.max(until, ledger.blockedUntil(demand, now));
      }
      return until;
    },
    take(key, model) {
      const wanted = demandsFor(key, model);
      // A key without caps (the common case) is taken at once, with nothing to await.
      if (wanted.length === 0) return true;
      return ledger.take(wanted).then((taken) => taken.ok, (error) => {
        logger.log("warn", "key caps cannot be checked: the store is unreachable", { error });
        ledger.force(wanted);
        return true;
      });
    },
    force(key, model) {
      const wanted = demandsFor(key, model);
      if (wanted.length > 0) ledger.force(wanted);
    },
  };
}

/** The model as named in counters: `*` for none, long names shortened with a hash. */
function counterModel(model: string | null): string {
  if (model === null) return "*";
  if (model.length <= MAX_MODEL_CHARS) return model;
  // FNV-1a: names this long are not Google's models; they only need to stay apart.
  let hash = 0x811c9dc5;
  for (let i = 0; i < model.length; i++) {
    hash ^= model.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${model.slice(0, 64)}#${hash.toString(16)}`;
}
