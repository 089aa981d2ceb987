/**
 * Proxy-token counters on Deno KV, kept apart from `kv_store.ts` so the quota logic reads in one
 * place.
 *
 * Layout: `["tokusage", window, tokenId, "r" | "t"]` holds a `Deno.KvU64` of requests or tokens,
 * `["tokusage", month, tokenId, "cu" | "cd"]` the µUSD added to and given back from the month's
 * spending (a KvU64 only grows, so spending is `cu - cd`), `["tokseen", tokenId]` the last
 * counted request's time. These are for display: limits are held by lease counters
 * (`kv_leases.ts`).
 * @module
 */
import { retentionBounds, tokenWindows } from "../../core/tokens/token_limits.ts";
import type { Store, TokenRecord, TokenUsage } from "../../core/store/store.ts";
import type { KvDatabase } from "./kv_database.ts";

/** The token-quota methods of a {@linkcode Store}, plus the `lastUsedAt` merge for listing. */
export interface KvTokenCounters extends Pick<Store, "addTokenUsage" | "readTokenUsage"> {
  /** The records with `lastUsedAt` from the counters (a later time than the record's wins). */
  withLastUsed(records: TokenRecord[]): Promise<TokenRecord[]>;
}

/** Deno KV allows at most this many mutations in one atomic commit. */
const MAX_MUTATIONS = 1000;
/** Conflicting commits back off up to this many ms (random), so a crowd does not spin in step. */
const MAX_BACKOFF_MS = 4;
/** Retries of a call SQLite refused because another process held the file (about 0.4 s). */
const LOCKED_RETRIES = 200;

type Kind = "r" | "t" | "cu" | "cd";

/**
 * Creates the counters on an open Deno KV handle.
 * @param kv The database (shared with the rest of the store): `Deno.openKv`'s or `@deno/kv`'s.
 * @param now Clock (epoch ms), for pruning old windows.
 */
export function createKvTokenCounters(kv: KvDatabase, now: () => number): KvTokenCounters {
  let prunedAt = 0;
  const key = (window: string, tokenId: string, kind: Kind): Deno.KvKey => [
    "tokusage",
    window,
    tokenId,
    kind,
  ];

  /** Drops windows past their retention, at most once a minute. */
  async function prune(): Promise<void> {
    const t = now();
    if (t - prunedAt < 60_000) return;
    prunedAt = t;
    const bounds = retentionBounds(t);
    for (const kind of ["m", "d", "M"] as const) {
      const op = kv.atomic();
      let n = 0;
      const selector = { start: ["tokusage", kind], end: ["tokusage", bounds[kind]] };
      for await (const entry of kv.list(selector, { limit: 500 })) {
        op.delete(entry.key);
        n++;
      }
      if (n > 0) await op.commit();
    }
  }

  return {
    async addTokenUsage(deltas) {
      const sums = new Map<string, { key: Deno.KvKey; value: bigint }>();
      const seen = new Map<string, number>();
      function sum(k: Deno.KvKey, value: number): void {
        if (value <= 0) return;
        const id = JSON.stringify(k);
        const entry = sums.get(id);
        if (entry) entry.value += BigInt(Math.round(value));
        else sums.set(id, { key: k, value: BigInt(Math.round(value)) });
      }
      for (const d of deltas) {
        const w = tokenWindows(d.at);
        for (const window of [w.minute, w.day, w.month]) {
          sum(key(window, d.tokenId, "r"), d.requests);
          sum(key(window, d.tokenId, "t"), d.tokens);
        }
        const cost = Math.round(d.costMicros ?? 0);
        sum(key(w.month, d.tokenId, cost > 0 ? "cu" : "cd"), Math.abs(cost));
        if (d.requests > 0) seen.set(d.tokenId, Math.max(seen.get(d.tokenId) ?? 0, d.at));
      }
      const mutations: ((op: Deno.AtomicOperation) => void)[] = [
        ...[...sums.values()].map(({ key, value }) => (op: Deno.AtomicOperation) =>
          void op.sum(key, value)
        ),
        ...[...seen].map(([tokenId, at]) => (op: Deno.AtomicOperation) =>
          void op.max(["tokseen", tokenId], BigInt(Math.floor(at)))
        ),
      ];
      for (let i = 0; i < mutations.length; i += MAX_MUTATIONS) {
        const op = kv.atomic();
        for (const add of mutations.slice(i, i + MAX_MUTATIONS)) add(op);
        await op.commit();
      }
      await prune();
    },
    async readTokenUsage(tokenId, at) {
      const w = tokenWindows(at);
      const [minute, day, dayTokens, month, monthTokens, up, down] = await kv.getMany<
        Deno.KvU64[]
      >([
        key(w.minute, tokenId, "r"),
        key(w.day, tokenId, "r"),
        key(w.day, tokenId, "t"),
        key(w.month, tokenId, "r"),
        key(w.month, tokenId, "t"),
        key(w.month, tokenId, "cu"),
        key(w.month, tokenId, "cd"),
      ]);
      const usage: TokenUsage = {
        minuteRequests: count(minute),
        dayRequests: count(day),
        dayTokens: count(dayTokens),
        monthRequests: count(month),
        monthTokens: count(monthTokens),
        monthCostMicros: count(up) - count(down),
      };
      return usage;
    },
    async withLastUsed(records) {
      const seen = new Map<string, number>();
      for await (const entry of kv.list<Deno.KvU64>({ prefix: ["tokseen"] })) {
        seen.set(String(entry.key[1]), Number(entry.value.value));
      }
      return records.map((record) => {
        const at = Math.max(record.lastUsedAt ?? 0, seen.get(record.id) ?? 0);
        return at > 0 ? { ...record, lastUsedAt: at } : record;
      });
    },
  };
}

function count(entry: Deno.KvEntryMaybe<Deno.KvU64> | undefined): number {
  return entry?.value ? Number(entry.value.value) : 0;
}

/**
 * Runs a KV call again while SQLite reports the database locked by another process sharing the
 * file (a local KV file has no busy timeout); other errors, and a lock lasting past the budget,
 * are thrown.
 * @param call The KV call.
 * @returns Its result.
 */
export async function retryLocked<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= LOCKED_RETRIES || !String(error).includes("database is locked")) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * Waits a random few milliseconds, longer with each attempt.
 * @param attempt Attempts made so far.
 */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_BACKOFF_MS, attempt + 1);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
