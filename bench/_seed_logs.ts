/**
 * A Deno KV store pre-filled with request logs, for the log-volume and stats rows: records spread
 * over the last 30 days with their aggregate counters, written through the store's own
 * `insertLogs` as the proxy's log writer writes them. Seeded once per run into a template file that
 * each measurement copies, so every proxy starts from the same store.
 * @module
 */
import { countKvLogs, createKvStore } from "../core/store/kv/mod.ts";
import { batchDeltas } from "../core/logs/deltas.ts";
import { type LogRecord, requestId } from "../core/store/log_record.ts";

/** What a seeded store holds. */
export interface SeedInfo {
  /** Log records written. */
  records: number;
  /** Days they span, ending now. */
  days: number;
  /** Distinct keys, models and tokens the records name (independent of each other). */
  keys: number;
  /** Models. */
  models: number;
  /** Tokens. */
  tokens: number;
  /** Time the seeding took, ms. */
  seedMs: number;
  /** Aggregate counter entries in the store by granularity (m, h, d). */
  counters: { m: number; h: number; d: number };
}

const DAY_MS = 86_400_000;
const MODELS = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-lite",
  "text-embedding-004",
];
/**
 * The store keeps minute counters for 2 days and prunes older ones (AGGREGATE_RETENTION_MS in
 * core/store/kv/kv_store.ts): a store that has been running for 30 days holds none older.
 */
const MINUTE_COUNTERS_KEPT_MS = 2 * DAY_MS;

/**
 * Writes `records` log records into a new KV file, oldest first, in batches of 1,000.
 * @param kvPath Where the KV file goes (must not exist yet).
 * @param records How many.
 * @returns What was written and how long it took.
 */
export async function seedLogs(kvPath: string, records: number): Promise<SeedInfo> {
  const days = 30;
  const keys = 20;
  const tokens = 5;
  const store = createKvStore(await Deno.openKv(kvPath));
  const started = performance.now();
  const now = Date.now();
  const from = now - days * DAY_MS;
  const random = mulberry32(6);
  const batch = 1000;
  try {
    for (let i = 0; i < records; i += batch) {
      const n = Math.min(batch, records - i);
      const rows = Array.from({ length: n }, (_, j) => {
        const index = i + j;
        // Evenly spread, a little jitter, always before now.
        const time = Math.floor(from + ((index + random()) / records) * (now - from - 1000));
        return logRecord(time, random, { keys, tokens });
      });
      const deltas = batchDeltas(rows).filter((d) =>
        d.granularity !== "m" || d.bucket >= now - MINUTE_COUNTERS_KEPT_MS
      );
      await store.insertLogs(rows, deltas, days * DAY_MS);
    }
  } finally {
    await store.close();
  }
  const seedMs = performance.now() - started;
  const kv = await Deno.openKv(kvPath);
  const counters = { m: 0, h: 0, d: 0 };
  try {
    for (const g of ["m", "h", "d"] as const) {
      // Roll-up sums, and the packed values of every key's, model's and token's rows.
      for (const prefix of ["agg", "aggp"]) {
        for await (const _ of kv.list({ prefix: [prefix, g] }, { batchSize: 1000 })) counters[g]++;
      }
    }
  } finally {
    kv.close();
  }
  return { records, days, keys, models: MODELS.length, tokens, seedMs, counters };
}

/**
 * Copies a KV file (and its SQLite side files, when present) to a new path.
 * @param from Template.
 * @param to New file.
 */
export async function copyKv(from: string, to: string): Promise<void> {
  await Deno.copyFile(from, to);
  for (const suffix of ["-wal", "-shm"]) {
    await Deno.copyFile(from + suffix, to + suffix).catch(() => {});
  }
}

/**
 * Counts the log records in a KV file (the proxy must be stopped).
 * @param kvPath The file.
 * @returns Records in its log pages (and entries of the one-record layout, if any).
 */
export async function countStoredLogs(kvPath: string): Promise<number> {
  const kv = await Deno.openKv(kvPath);
  try {
    return await countKvLogs(kv);
  } finally {
    kv.close();
  }
}

/** A plausible record: 97% success, some quota and server errors, a few failovers. */
function logRecord(
  time: number,
  random: () => number,
  dims: { keys: number; tokens: number },
): LogRecord {
  const pick = (n: number) => Math.floor(random() * n);
  const roll = random();
  const status = roll < 0.02 ? 429 : roll < 0.03 ? 503 : 200;
  const model = MODELS[pick(MODELS.length)]!;
  const key = pick(dims.keys);
  const token = pick(dims.tokens);
  const keyMasked = `AIza...${String(key).padStart(4, "0")}`;
  const prompt = 20 + pick(2000);
  const candidates = 50 + pick(1500);
  const thoughts = random() < 0.3 ? pick(800) : 0;
  const duration = Math.round(150 * Math.exp(random() * 3)); // 150 ms to 3 s, skewed low
  const failover = random() < 0.02;
  const attempt = (s: number) => ({
    keyId: `k_bench${key}`,
    keyMasked,
    status: s,
    errorClass: s === 200 ? null : s === 429 ? "quota" : "server",
    durationMs: Math.round(duration * 0.8),
  });
  const usage = status === 200
    ? {
      prompt,
      candidates,
      thoughts,
      cached: 0,
      toolUse: 0,
      total: prompt + candidates + thoughts,
    }
    : null;
  return {
    id: requestId(time),
    time,
    httpMethod: "POST",
    path: `/v1beta/models/${model}:generateContent`,
    tokenId: `t_bench${token}`,
    tokenName: `bench app ${token}`,
    model,
    method: random() < 0.3 ? "streamGenerateContent" : "generateContent",
    flavour: random() < 0.2 ? "openai" : "native",
    stream: random() < 0.3,
    status,
    errorClass: status === 200 ? null : status === 429 ? "quota" : "server",
    attempts: failover ? [attempt(429), attempt(status)] : [attempt(status)],
    keyId: `k_bench${key}`,
    keyMasked,
    ttfbMs: Math.round(duration * 0.6),
    durationMs: duration,
    bytesIn: 300 + pick(3000),
    bytesOut: 1000 + pick(8000),
    usage,
    finishReason: status === 200 ? "STOP" : null,
    truncated: false,
    region: null,
    userAgent: "bench-seed",
  };
}

/** A small seeded PRNG, so every run seeds the same store. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
