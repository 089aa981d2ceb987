/**
 * The log writer's cost on its own: records pushed as the proxy pushes them (10 keys, 2 models,
 * 3 tokens, 2,000 a second of record time), written to a temporary Deno KV file by the writer's
 * periodic ticks (every 250 ms of record time) and a final flush. Prints records written a
 * second of wall time, KV commits and mutations per 1,000 records, and what the file holds.
 *
 *   deno run -A --unstable-kv bench/log_write.ts [records=100000]
 * @module
 */
import { createLogger, createLogWriter } from "../core/logs/mod.ts";
import { createKvStore, type KvDatabase } from "../core/store/kv/mod.ts";
import { type LogRecord, requestId } from "../core/store/mod.ts";

const total = Number(Deno.args[0] ?? 100_000);
const RATE = 2_000;
const TICK_MS = 250;

/** A handle that counts commits and their mutations. */
function counting(kv: KvDatabase, counts: { commits: number; mutations: number }): KvDatabase {
  return {
    get: (key) => kv.get(key),
    getMany: (keys) => kv.getMany(keys),
    set(key, value, options) {
      counts.commits++;
      counts.mutations++;
      return kv.set(key, value, options);
    },
    list: (selector, options) => kv.list(selector, options),
    atomic() {
      const op = kv.atomic();
      for (const name of ["set", "sum", "max", "delete"] as const) {
        const original = op[name].bind(op) as (...args: unknown[]) => unknown;
        (op as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
          counts.mutations++;
          original(...args);
          return op;
        };
      }
      const commit = op.commit.bind(op);
      op.commit = () => {
        counts.commits++;
        return commit();
      };
      return op;
    },
    close: () => kv.close(),
  };
}

function record(i: number, time: number): LogRecord {
  return {
    id: requestId(time),
    time,
    httpMethod: "POST",
    path: "/v1beta/models/gemini-2.5-flash:generateContent",
    tokenId: `tok_${i % 3}`,
    tokenName: `app ${i % 3}`,
    model: i % 2 ? "gemini-2.5-flash" : "gemini-2.5-pro",
    method: "generateContent",
    flavour: "native",
    stream: false,
    status: i % 50 === 0 ? 429 : 200,
    errorClass: i % 50 === 0 ? "quota" : null,
    attempts: [{
      keyId: `key_${i % 10}`,
      keyMasked: "AIza...abcd",
      status: 200,
      errorClass: null,
      durationMs: 2,
      startMs: 0,
    }],
    keyId: `key_${i % 10}`,
    keyMasked: "AIza...abcd",
    ttfbMs: 2,
    durationMs: 3 + (i % 40),
    bytesIn: 120,
    bytesOut: 640,
    usage: { prompt: 12, candidates: 40, thoughts: 0, cached: 0, toolUse: 0, total: 52 },
    costMicros: 21,
    finishReason: "STOP",
    truncated: false,
    region: null,
    userAgent: "google-genai-sdk/1.0 gl-node/v20",
    client: "127.0.0.1",
  };
}

const dir = await Deno.makeTempDir();
const counts = { commits: 0, mutations: 0 };
const kv = await Deno.openKv(`${dir}/bench.kv`);
const clock = { now: Date.now() };
const store = createKvStore(counting(kv, counts), { now: () => clock.now });
const writer = createLogWriter({
  store,
  retentionMs: 86_400_000,
  logger: createLogger({ sink: () => {} }),
  maxQueue: total + 1,
  ...({ now: () => clock.now } as Record<string, unknown>),
});
// Writers without tick() (earlier versions) were flushed by the same periodic sync.
const tick = (writer as { tick?: () => Promise<void> }).tick?.bind(writer) ?? writer.flush;
const perTick = (RATE * TICK_MS) / 1000;
const started = performance.now();
for (let i = 0; i < total; i += perTick) {
  for (let j = i; j < Math.min(total, i + perTick); j++) writer.push(record(j, clock.now));
  await tick.call(writer);
  clock.now += TICK_MS;
}
await writer.flush();
const ms = performance.now() - started;
let entries = 0;
for await (const _ of kv.list({ prefix: [] })) entries++;
await store.close();
await Deno.remove(dir, { recursive: true });
console.log(JSON.stringify({
  records: writer.written,
  ms: Math.round(ms),
  recordsPerSecond: Math.round(writer.written / (ms / 1000)),
  commitsPer1000: +(counts.commits / (writer.written / 1000)).toFixed(2),
  mutationsPer1000: Math.round(counts.mutations / (writer.written / 1000)),
  kvEntries: entries,
}));
