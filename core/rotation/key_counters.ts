/**
 * Request counts per key and model in the current clock minute and Pacific day, held in memory
 * for the `least_used` strategy and merged with other processes' counts from the store.
 * @module
 */
import { pacificDay } from "../utils/mod.ts";

/** One key's count for one model. */
interface Counter {
  minuteBucket: number;
  minute: number;
  day: string;
  dayCount: number;
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

/** The counters, by model slot then key id. */
export class KeyCounters {
  /** Request counters by model slot, then by key id. */
  #counters = new Map<string, Map<string, Counter>>();
  #now: () => number;

  /**
   * Creates empty counters.
   * @param now Clock (epoch ms): counts roll over with the minute and the Pacific day.
   */
  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * A key's counter for a model slot, rolled over to the current windows.
   * @param keyId The key.
   * @param slot The model's slot (`*` for none).
   */
  counter(keyId: string, slot: string): Counter {
    let byKey = this.#counters.get(slot);
    if (!byKey) this.#counters.set(slot, byKey = new Map());
    const now = this.#now();
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

  /**
   * Counts one request.
   * @param keyId The key.
   * @param slot The model's slot.
   */
  count(keyId: string, slot: string): void {
    const c = this.counter(keyId, slot);
    c.minute++;
    c.dayCount++;
  }

  /**
   * Raises counts to totals read from the store (all processes).
   * @param totals The totals.
   * @param slotOf The slot of a total's model (`*` stays `*`).
   */
  merge(totals: UsageTotal[], slotOf: (model: string | null) => string): void {
    for (const t of totals) {
      const c = this.counter(t.keyId, slotOf(t.model === "*" ? null : t.model));
      c.minute = Math.max(c.minute, t.minute);
      c.dayCount = Math.max(c.dayCount, t.day);
    }
  }

  /** Entries held (for tests of their bounds). */
  get size(): number {
    let entries = 0;
    for (const byKey of this.#counters.values()) entries += byKey.size;
    return entries;
  }
}
