/**
 * Proxy-token counters on Deno KV, kept apart from `kv_store.ts` so the quota logic reads in one
 * place.
 *
 * Layout: `["tokusage", window, tokenId, "r" | "t"]` holds a `Deno.KvU64` of requests or tokens,
 * `["tokusage", month, tokenId, "cu" | "cd"]` the µUSD added to and given back from the month's
 * spending (a KvU64 only grows, so spending is `cu - cd`), `["tokseen", tokenId]` the last
 * admitted request's time. A charge reads the windows it limits
 * and commits the incremented counts with `check()` on exactly those entries, retrying when
 * another process on the database got there first: request limits are exact. Within a process,
 * charges of one token run one after another, so they never collide with each other (100
 * concurrent charges: about 30 ms in all instead of about 250 ms of retries; see
 * `bench/token_charge.ts`).
 * @module
 */
import {
  type ChargeCounts,
  judgeCharge,
  retentionBounds,
  tokenWindows,
} from "../../core/tokens/token_limits.ts";
import type {
  Store,
  TokenChargeOptions,
  TokenChargeResult,
  TokenLimits,
  TokenRecord,
  TokenUsage,
} from "../../core/store/store.ts";
import type { KvDatabase } from "./kv_database.ts";

/** The token-quota methods of a {@linkcode Store}, plus the `lastUsedAt` merge for listing. */
export interface KvTokenCounters
  extends Pick<Store, "chargeTokenRequest" | "addTokenUsage" | "readTokenUsage"> {
  /** The records with `lastUsedAt` from the counters (a later time than the record's wins). */
  withLastUsed(records: TokenRecord[]): Promise<TokenRecord[]>;
}

/** Deno KV allows at most this many mutations in one atomic commit. */
const MAX_MUTATIONS = 1000;
/** Conflicting charges back off up to this many ms (random), so a crowd does not spin in step. */
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

  /** Charges in flight per token: one at a time in this process, so they never collide here. */
  const lanes = new Map<string, Promise<unknown>>();

  async function charge(
    tokenId: string,
    limits: TokenLimits,
    at: number,
    options: TokenChargeOptions,
  ): Promise<TokenChargeResult> {
    const w = tokenWindows(at);
    const minute = key(w.minute, tokenId, "r");
    const day = key(w.day, tokenId, "r");
    const dayTokens = key(w.day, tokenId, "t");
    const costUp = key(w.month, tokenId, "cu");
    const costDown = key(w.month, tokenId, "cd");
    const reserve = Math.max(0, Math.round(options.reserveMicros ?? 0));
    const budgeted = limits.budgetMicros !== undefined && options.reserveMicros !== undefined;
    const keys = budgeted ? [minute, day, dayTokens, costUp, costDown] : [minute, day, dayTokens];
    for (let attempt = 0;; attempt++) {
      const [m, d, t, up, down] = await retryLocked(() => kv.getMany<Deno.KvU64[]>(keys));
      const counts: ChargeCounts = {
        minuteRequests: count(m),
        dayRequests: count(d),
        dayTokens: count(t),
        monthCostMicros: count(up) - count(down),
      };
      const result = judgeCharge(counts, limits, at, options);
      if (!result.ok) return result;
      const op = kv.atomic();
      // Only the windows that carry a limit are checked: the others just add up, so unrelated
      // traffic never makes a charge retry. A checked entry is unchanged since it was read, so
      // adding to it stores exactly the count judged plus the increment (and needs no
      // `Deno.KvU64`, which Node.js lacks).
      if (limits.rpm !== undefined) op.check(m!);
      if (limits.rpd !== undefined) op.check(d!);
      op.sum(minute, 1n).sum(day, 1n);
      // A budget is judged on the spending read: it must not have moved before the reservation
      // is added.
      if (budgeted) op.check(up!, down!);
      if (reserve > 0) op.sum(costUp, BigInt(reserve));
      op.sum(key(w.month, tokenId, "r"), 1n).max(["tokseen", tokenId], BigInt(Math.floor(at)));
      if ((await retryLocked(() => op.commit())).ok) return result;
      await backoff(attempt);
    }
  }

  return {
    chargeTokenRequest(tokenId, limits, at, options = {}) {
      const previous = lanes.get(tokenId) ?? Promise.resolve();
      const next = previous.then(() => charge(tokenId, limits, at, options));
      const settled = next.catch(() => {});
      lanes.set(tokenId, settled);
      void settled.then(() => {
        if (lanes.get(tokenId) === settled) lanes.delete(tokenId);
      });
      return next;
    },
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
 */
async function retryLocked<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= LOCKED_RETRIES || !String(error).includes("database is locked")) throw error;
      await backoff(attempt);
    }
  }
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_BACKOFF_MS, attempt + 1);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
