/**
 * Keys' request and token counters and their last-used/last-error states on Deno KV:
 * - `["usagep", window, segment, part]` holds every key's and model's requests (`r`) and tokens
 *   (`t`) in the minute or Pacific day (window names from `core/store/windows.ts`), packed per
 *   writer (`kv_packed_counters.ts`): a second of traffic over 10,000 keys is a few writes, and
 *   reading a window back a few values (older versions kept one `["usage", window, keyId, model,
 *   "r" | "t"]` sum per counter; those are still read);
 * - `["keystate", keyId]` a key's last error;
 * - `["keyused", keyId]` its last-used time (a counter raised with `max`: written for thousands of
 *   keys at once without reading any).
 * @module
 */
import {
  type KeyStateRecord,
  type KeyUsageTotal,
  retentionBounds,
  type Store,
  windowNames,
} from "../mod.ts";
import { commitInBatches, createPruner, MAX_READ_KEYS, type Mutation } from "./kv_batch.ts";
import type { KvDatabase, KvU64 } from "./kv_database.ts";
import { PackedCounters, readPacked } from "./kv_packed_counters.ts";

/** Prefix of the packed counters. */
const PACKED = "usagep";

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
  const packed = new PackedCounters(kv, { prefix: PACKED, now });
  return {
    async addKeyUsage(deltas) {
      // Added once; a failed write leaves them in `packed`, and the next call writes them.
      for (const d of deltas) {
        const { minute, day } = windowNames(d.at);
        for (const window of [minute, day]) {
          const row = packed.row([window], [d.keyId, d.model]);
          row.add("r", Math.round(d.requests));
          row.add("t", Math.round(d.tokens));
        }
      }
      await packed.write();
      await prune((at) => {
        const bounds = retentionBounds(at);
        return [PACKED, "usage"].flatMap((prefix) => [
          { start: [prefix, "m"], end: [prefix, bounds.m] },
          { start: [prefix, "d"], end: [prefix, bounds.d] },
        ]);
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
  const totalOf = (keyId: string, model: string) => {
    const id = `${keyId}\u0000${model}`;
    let total = totals.get(id);
    if (!total) {
      total = { keyId, model, minute: 0, day: 0, minuteTokens: 0, dayTokens: 0 };
      totals.set(id, total);
    }
    return total;
  };
  const add = (window: string, total: KeyUsageTotal, counts: { r?: number; t?: number }) => {
    if (window === minute) {
      total.minute += counts.r ?? 0;
      total.minuteTokens += counts.t ?? 0;
    } else {
      total.day += counts.r ?? 0;
      total.dayTokens += counts.t ?? 0;
    }
  };
  for (const window of [minute, day]) {
    await readPacked(kv, { prefix: [PACKED, window] }, (_, [keyId = "", model = ""], fields) => {
      add(window, totalOf(keyId, model), fields);
    });
    for await (const entry of kv.list<KvU64>({ prefix: ["usage", window] })) {
      const [, , keyId, model, kind] = entry.key as [string, string, string, string, string];
      add(window, totalOf(keyId, model), { [kind]: Number(entry.value.value) });
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
