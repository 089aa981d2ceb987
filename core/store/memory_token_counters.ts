/**
 * Proxy-token counters of the memory store, kept apart from `memory_store.ts` so the quota
 * logic reads in one place.
 * @module
 */
import type { TokenRecord, TokenUsage, TokenUsageDelta } from "./records.ts";
import type { Store } from "./store.ts";
import { windowExpired, type WindowNames, windowNames } from "./windows.ts";

/** The token-quota methods of a {@linkcode Store}, plus the `lastUsedAt` merge for listing. */
export interface MemoryTokenCounters extends Pick<Store, "addTokenUsage" | "readTokenUsage"> {
  /** The records with `lastUsedAt` from the counters (a later time than the record's wins). */
  withLastUsed(records: TokenRecord[]): TokenRecord[];
}

/** `r` requests, `t` tokens, `c` µUSD spent (month windows only, may go down). */
type Kind = "r" | "t" | "c";

/** The counters' state. */
interface Counters {
  /** Counts by window, token and kind. */
  counts: Map<string, number>;
  /** Last counted request per token (epoch ms). */
  lastUsed: Map<string, number>;
  /** When expired windows were last dropped (epoch ms). */
  prunedAt: number;
}

/**
 * Creates in-memory token counters. Every method completes in one synchronous step.
 * @param now Clock (epoch ms), for pruning old windows.
 */
export function createMemoryTokenCounters(now: () => number): MemoryTokenCounters {
  const state: Counters = { counts: new Map(), lastUsed: new Map(), prunedAt: -Infinity };
  return {
    addTokenUsage(deltas) {
      for (const d of deltas) addDelta(state, d);
      prune(state, now());
      return Promise.resolve();
    },
    readTokenUsage(tokenId, at) {
      const w = windowNames(at);
      const read = (window: string, kind: Kind) =>
        state.counts.get(counterName(window, tokenId, kind)) ?? 0;
      const usage: TokenUsage = {
        minuteRequests: read(w.minute, "r"),
        dayRequests: read(w.day, "r"),
        dayTokens: read(w.day, "t"),
        monthRequests: read(w.month, "r"),
        monthTokens: read(w.month, "t"),
        monthCostMicros: read(w.month, "c"),
      };
      return Promise.resolve(usage);
    },
    withLastUsed(records) {
      return records.map((record) => {
        const at = Math.max(record.lastUsedAt ?? 0, state.lastUsed.get(record.id) ?? 0);
        return at > 0 ? { ...record, lastUsedAt: at } : record;
      });
    },
  };
}

function counterName(window: string, tokenId: string, kind: Kind): string {
  return `${window}\u0000${tokenId}\u0000${kind}`;
}

function addDelta(state: Counters, d: TokenUsageDelta): void {
  const w = windowNames(d.at);
  if (d.requests > 0) {
    addToWindows(state, { windows: w, tokenId: d.tokenId, kind: "r", value: d.requests });
    state.lastUsed.set(d.tokenId, Math.max(state.lastUsed.get(d.tokenId) ?? 0, d.at));
  }
  if (d.tokens > 0) {
    addToWindows(state, {
      windows: w,
      tokenId: d.tokenId,
      kind: "t",
      value: Math.round(d.tokens),
    });
  }
  const micros = d.costMicros ?? 0;
  if (micros !== 0) {
    const id = counterName(w.month, d.tokenId, "c");
    state.counts.set(id, (state.counts.get(id) ?? 0) + Math.round(micros));
  }
}

function addToWindows(
  state: Counters,
  add: { windows: WindowNames; tokenId: string; kind: "r" | "t"; value: number },
): void {
  for (const window of [add.windows.minute, add.windows.day, add.windows.month]) {
    const id = counterName(window, add.tokenId, add.kind);
    state.counts.set(id, (state.counts.get(id) ?? 0) + add.value);
  }
}

/** Drops windows past their retention, at most once a minute. */
function prune(state: Counters, at: number): void {
  if (at - state.prunedAt < 60_000) return;
  state.prunedAt = at;
  for (const id of state.counts.keys()) {
    if (windowExpired(id.slice(0, id.indexOf("\u0000")), at)) state.counts.delete(id);
  }
}
