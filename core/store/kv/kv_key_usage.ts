/**
 * Keys' request and token counters and their last-used/last-error states on Deno KV:
 * `["usage", window, keyId, model, "r" | "t"]` holds a counter of the minute or Pacific day
 * (window names from `core/store/windows.ts`), `["keystate", keyId]` a key's last error and
 * `["keyused", keyId]` its last-used time (a counter raised with `max`: written for thousands of
 * keys at once without reading any).
 * @module
 */
import {
  type KeyStateRecord,
  type KeyUsageTotal,
  retentionBounds,
  type Store,
  windowNames,
} from "../mod.ts";
import { commitInBatches, createPruner, MAX_READ_KEYS, type Mutation, Sums } from "./kv_batch.ts";
import type { KvDatabase, KvU64 } from "./kv_database.ts";

/** The store methods on key counters and states. */
export type KvKeyUsage = Pick<
  Store,
  "addKeyUsage" | "readKeyUsage" | "putKeyStates" | "listKeyStates"
>;

/**
 * Creates the key counters on an open handle.
 * @param kv The database (retrying while locked).
 * @param now Clock (epoch ms), for pruning old windows.
 */
export function createKvKeyUsage(kv: KvDatabase, now: () => number): KvKeyUsage {
  const prune = createPruner(kv, now);
  return {
    async addKeyUsage(deltas) {
      const sums = new Sums();
      for (const d of deltas) {
        const { minute, day } = windowNames(d.at);
        for (const window of [minute, day]) {
          sums.add(["usage", window, d.keyId, d.model, "r"], d.requests);
          sums.add(["usage", window, d.keyId, d.model, "t"], d.tokens);
        }
      }
      await commitInBatches(kv, sums.mutations());
      await prune((at) => {
        const bounds = retentionBounds(at);
        return [
          { start: ["usage", "m"], end: ["usage", bounds.m] },
          { start: ["usage", "d"], end: ["usage", bounds.d] },
        ];
      });
    },
    readKeyUsage: (at) => readKeyUsage(kv, at),
    putKeyStates: (states) => putKeyStates(kv, states),
    listKeyStates: () => listKeyStates(kv),
  };
}

/** Every key's requests and tokens in the minute and Pacific day containing `at`. */
async function readKeyUsage(kv: KvDatabase, at: number): Promise<KeyUsageTotal[]> {
  const { minute, day } = windowNames(at);
  const totals = new Map<string, KeyUsageTotal>();
  for (const window of [minute, day]) {
    for await (const entry of kv.list<KvU64>({ prefix: ["usage", window] })) {
      const [, , keyId, model, kind] = entry.key as [string, string, string, string, string];
      const id = `${keyId}\u0000${model}`;
      const total = totals.get(id) ??
        { keyId, model, minute: 0, day: 0, minuteTokens: 0, dayTokens: 0 };
      const value = Number(entry.value.value);
      if (window === minute) total[kind === "r" ? "minute" : "minuteTokens"] += value;
      else total[kind === "r" ? "day" : "dayTokens"] += value;
      totals.set(id, total);
    }
  }
  return [...totals.values()];
}

/** Last-used times as `max` mutations (no read); last errors merged into the stored state. */
async function putKeyStates(kv: KvDatabase, states: readonly KeyStateRecord[]): Promise<void> {
  const used: Mutation[] = [];
  for (const s of states) {
    if (s.lastUsedAt === undefined) continue;
    const at = BigInt(Math.max(0, Math.floor(s.lastUsedAt)));
    used.push({ bytes: 64, keyBytes: 48, apply: (op) => void op.max(["keyused", s.keyId], at) });
  }
  await commitInBatches(kv, used);
  const errors = states.filter((s) => s.lastError !== undefined);
  for (let i = 0; i < errors.length; i += MAX_READ_KEYS) {
    const batch = errors.slice(i, i + MAX_READ_KEYS);
    const current = await kv.getMany<KeyStateRecord[]>(batch.map((s) => ["keystate", s.keyId]));
    const op = kv.atomic();
    batch.forEach((state, j) => {
      op.set(["keystate", state.keyId], {
        ...current[j]?.value,
        keyId: state.keyId,
        lastError: state.lastError,
      });
    });
    await op.commit();
  }
}

/** Every key's state: its last error, and its last-used time from either place it was kept. */
async function listKeyStates(kv: KvDatabase): Promise<KeyStateRecord[]> {
  const states = new Map<string, KeyStateRecord>();
  for await (const entry of kv.list<KeyStateRecord>({ prefix: ["keystate"] })) {
    states.set(entry.value.keyId, entry.value);
  }
  for await (const entry of kv.list<KvU64>({ prefix: ["keyused"] })) {
    const keyId = String(entry.key[1]);
    const at = Number(entry.value.value);
    const state = states.get(keyId);
    if (!state) states.set(keyId, { keyId, lastUsedAt: at });
    // States written before last-used times moved to their own entries may hold one too.
    else state.lastUsedAt = Math.max(state.lastUsedAt ?? 0, at);
  }
  return [...states.values()];
}
