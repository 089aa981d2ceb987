/**
 * Proxy-token counters on Deno KV, kept apart from `kv_store.ts` so the quota logic reads in one
 * place.
 *
 * Layout: `["tokusage", window, tokenId, "r" | "t"]` holds a counter (`KvU64`) of requests or
 * tokens, `["tokusage", month, tokenId, "cu" | "cd"]` the µUSD added to and given back from the
 * month's spending (a counter only grows, so spending is `cu - cd`), `["tokseen", tokenId]` the
 * last counted request's time. These are for display: limits are held by lease counters
 * (`kv_leases.ts`).
 * @module
 */
import {
  retentionBounds,
  type Store,
  type TokenRecord,
  type TokenUsage,
  windowNames,
} from "../mod.ts";
import { commitInBatches, createPruner, type Mutation, Sums } from "./kv_batch.ts";
import type { KvDatabase, KvEntryMaybe, KvKey, KvU64 } from "./kv_database.ts";

/** The token-quota methods of a {@linkcode Store}, plus the `lastUsedAt` merge for listing. */
export interface KvTokenCounters extends Pick<Store, "addTokenUsage" | "readTokenUsage"> {
  /** The records with `lastUsedAt` from the counters (a later time than the record's wins). */
  withLastUsed(records: TokenRecord[]): Promise<TokenRecord[]>;
}

type Kind = "r" | "t" | "cu" | "cd";

function counterKey(window: string, tokenId: string, kind: Kind): KvKey {
  return ["tokusage", window, tokenId, kind];
}

/**
 * Creates the counters on an open handle.
 * @param kv The database (shared with the rest of the store, retrying while locked).
 * @param now Clock (epoch ms), for pruning old windows.
 */
export function createKvTokenCounters(kv: KvDatabase, now: () => number): KvTokenCounters {
  const prune = createPruner(kv, now);
  return {
    async addTokenUsage(deltas) {
      const sums = new Sums();
      const seen = new Map<string, number>();
      for (const d of deltas) {
        const w = windowNames(d.at);
        for (const window of [w.minute, w.day, w.month]) {
          sums.add(counterKey(window, d.tokenId, "r"), d.requests);
          sums.add(counterKey(window, d.tokenId, "t"), d.tokens);
        }
        const cost = Math.round(d.costMicros ?? 0);
        sums.add(counterKey(w.month, d.tokenId, cost > 0 ? "cu" : "cd"), Math.abs(cost));
        if (d.requests > 0) seen.set(d.tokenId, Math.max(seen.get(d.tokenId) ?? 0, d.at));
      }
      const lastSeen: Mutation[] = [...seen].map(([tokenId, at]) => ({
        bytes: 128,
        apply: (op) => void op.max(["tokseen", tokenId], BigInt(Math.floor(at))),
      }));
      await commitInBatches(kv, [...sums.mutations(), ...lastSeen]);
      await prune((at) => {
        const bounds = retentionBounds(at);
        return (["m", "d", "M"] as const).map((kind) => ({
          start: ["tokusage", kind],
          end: ["tokusage", bounds[kind]],
        }));
      });
    },
    readTokenUsage: (tokenId, at) => readTokenUsage(kv, { tokenId, at }),
    async withLastUsed(records) {
      const seen = new Map<string, number>();
      for await (const entry of kv.list<KvU64>({ prefix: ["tokseen"] })) {
        seen.set(String(entry.key[1]), Number(entry.value.value));
      }
      return records.map((record) => {
        const at = Math.max(record.lastUsedAt ?? 0, seen.get(record.id) ?? 0);
        return at > 0 ? { ...record, lastUsedAt: at } : record;
      });
    },
  };
}

/** A token's requests, tokens and spending in the windows containing `at`. */
async function readTokenUsage(
  kv: KvDatabase,
  { tokenId, at }: { tokenId: string; at: number },
): Promise<TokenUsage> {
  const w = windowNames(at);
  const [minute, day, dayTokens, month, monthTokens, up, down] = await kv.getMany<KvU64[]>([
    counterKey(w.minute, tokenId, "r"),
    counterKey(w.day, tokenId, "r"),
    counterKey(w.day, tokenId, "t"),
    counterKey(w.month, tokenId, "r"),
    counterKey(w.month, tokenId, "t"),
    counterKey(w.month, tokenId, "cu"),
    counterKey(w.month, tokenId, "cd"),
  ]);
  return {
    minuteRequests: count(minute),
    dayRequests: count(day),
    dayTokens: count(dayTokens),
    monthRequests: count(month),
    monthTokens: count(monthTokens),
    monthCostMicros: count(up) - count(down),
  };
}

function count(entry: KvEntryMaybe<KvU64> | undefined): number {
  return entry?.value ? Number(entry.value.value) : 0;
}
