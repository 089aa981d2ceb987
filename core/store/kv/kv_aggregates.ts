/**
 * Aggregate counters on Deno KV: `["agg", granularity, bucket, keyId, model, tokenId, field]`
 * holds a counter summed with atomic `sum` mutations, so processes sharing a store add up exactly.
 * A batch too large for one commit (Deno KV takes at most 1000 mutations and about 80 KB of keys
 * per commit) is split into parts, and each part records `["aggdone", batchId, part]` in the same
 * commit, checked absent: a retry of the batch skips the parts an earlier try wrote.
 * @module
 */
import type { AggregateDelta } from "../mod.ts";
import { keySize, MAX_KEY_BYTES, MAX_MUTATIONS } from "./kv_batch.ts";
import type { KvAtomic, KvDatabase, KvKey } from "./kv_database.ts";

/** Prefix of the markers of written parts. */
const DONE_PREFIX = "aggdone";
/** How long a part's marker is kept: far longer than a batch is ever retried. */
const DONE_TTL_MS = 24 * 3600_000;

/** Counters summed one KV entry each, under a batch id (see `AggregateBatch`). */
export interface SummedBatch {
  /** The batch's id, the same on every retry. */
  id: string;
  /** Increments, one per counter, in the same order on every retry. */
  deltas: AggregateDelta[];
}

/** One commit's worth of a batch's counters. */
interface Part {
  keys: KvKey[];
  values: bigint[];
}

/**
 * Splits a batch's counters into parts that fit one commit each, beside their marker. The same
 * batch always splits the same way.
 * @param batch The batch.
 */
export function aggregateParts(batch: SummedBatch): Part[] {
  const parts: Part[] = [];
  const marker = keySize([DONE_PREFIX, batch.id, 0]);
  let part: Part = { keys: [], values: [] };
  let bytes = marker;
  for (const d of batch.deltas) {
    const value = BigInt(Math.max(0, Math.round(d.value)));
    if (value === 0n) continue;
    const key = ["agg", d.granularity, d.bucket, d.keyId, d.model, d.tokenId, d.field];
    const size = keySize(key);
    if (
      part.keys.length > 0 &&
      (part.keys.length + 2 > MAX_MUTATIONS || bytes + size > MAX_KEY_BYTES)
    ) {
      parts.push(part);
      part = { keys: [], values: [] };
      bytes = marker;
    }
    part.keys.push(key);
    part.values.push(value);
    bytes += size;
  }
  if (part.keys.length > 0) parts.push(part);
  return parts;
}

/**
 * Adds a batch's counters, each part once however often the batch is retried.
 * @param kv The database.
 * @param batch Counter increments and the batch's id.
 * @throws {Error} When KV fails a commit (the parts written before it stay written, and marked).
 */
export async function writeAggregates(kv: KvDatabase, batch: SummedBatch): Promise<void> {
  const parts = aggregateParts(batch);
  for (const [i, part] of parts.entries()) {
    const done: KvKey = [DONE_PREFIX, batch.id, i];
    const op: KvAtomic = kv.atomic().check({ key: done, versionstamp: null });
    op.set(done, true, { expireIn: DONE_TTL_MS });
    for (let j = 0; j < part.keys.length; j++) op.sum(part.keys[j]!, part.values[j]!);
    // Not ok only when the marker exists: an earlier try wrote this part.
    await op.commit();
  }
}
