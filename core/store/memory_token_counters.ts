/**
 * Proxy-token counters of the memory store, kept apart from `memory_store.ts` so the quota
 * logic reads in one place.
 * @module
 */
import { type TokenWindows, tokenWindows, windowExpired } from "../tokens/token_limits.ts";
import type { Store, TokenRecord, TokenUsage } from "./store.ts";

/** The token-quota methods of a {@linkcode Store}, plus the `lastUsedAt` merge for listing. */
export interface MemoryTokenCounters extends Pick<Store, "addTokenUsage" | "readTokenUsage"> {
  /** The records with `lastUsedAt` from the counters (a later time than the record's wins). */
  withLastUsed(records: TokenRecord[]): TokenRecord[];
}

/**
 * Creates in-memory token counters. Every method completes in one synchronous step.
 * @param now Clock (epoch ms), for pruning old windows.
 */
export function createMemoryTokenCounters(now: () => number): MemoryTokenCounters {
  const counters = new Map<string, number>();
  const lastUsed = new Map<string, number>();
  let prunedAt = 0;

  /** `r` requests, `t` tokens, `c` µUSD spent (month windows only, may go down). */
  function name(window: string, tokenId: string, kind: "r" | "t" | "c"): string {
    return `${window}\u0000${tokenId}\u0000${kind}`;
  }
  function read(window: string, tokenId: string, kind: "r" | "t" | "c"): number {
    return counters.get(name(window, tokenId, kind)) ?? 0;
  }
  function addCost(window: string, tokenId: string, micros: number): void {
    if (micros === 0) return;
    const id = name(window, tokenId, "c");
    counters.set(id, (counters.get(id) ?? 0) + Math.round(micros));
  }
  function add(windows: TokenWindows, tokenId: string, kind: "r" | "t", value: number): void {
    for (const window of [windows.minute, windows.day, windows.month]) {
      const id = name(window, tokenId, kind);
      counters.set(id, (counters.get(id) ?? 0) + value);
    }
  }
  function seen(tokenId: string, at: number): void {
    lastUsed.set(tokenId, Math.max(lastUsed.get(tokenId) ?? 0, at));
  }
  function prune(): void {
    const t = now();
    if (t - prunedAt < 60_000) return;
    prunedAt = t;
    for (const id of counters.keys()) {
      if (windowExpired(id.slice(0, id.indexOf("\u0000")), t)) counters.delete(id);
    }
  }

  return {
    addTokenUsage(deltas) {
      for (const d of deltas) {
        const w = tokenWindows(d.at);
        if (d.requests > 0) {
          add(w, d.tokenId, "r", d.requests);
          seen(d.tokenId, d.at);
        }
        if (d.tokens > 0) add(w, d.tokenId, "t", Math.round(d.tokens));
        addCost(w.month, d.tokenId, d.costMicros ?? 0);
      }
      prune();
      return Promise.resolve();
    },
    readTokenUsage(tokenId, at) {
      const w = tokenWindows(at);
      const usage: TokenUsage = {
        minuteRequests: read(w.minute, tokenId, "r"),
        dayRequests: read(w.day, tokenId, "r"),
        dayTokens: read(w.day, tokenId, "t"),
        monthRequests: read(w.month, tokenId, "r"),
        monthTokens: read(w.month, tokenId, "t"),
        monthCostMicros: read(w.month, tokenId, "c"),
      };
      return Promise.resolve(usage);
    },
    withLastUsed(records) {
      return records.map((record) => {
        const at = Math.max(record.lastUsedAt ?? 0, lastUsed.get(record.id) ?? 0);
        return at > 0 ? { ...record, lastUsedAt: at } : record;
      });
    },
  };
}
