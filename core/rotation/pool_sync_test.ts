import { assertEquals } from "../../tests/support/assert.ts";
import { classifyFailure, type Verdict } from "./classify.ts";
import { createKeyPool } from "./key_pool.ts";
import { createLogger } from "../logs/logger.ts";
import { createPoolSync } from "./pool_sync.ts";
import { createRegistry } from "./registry.ts";
import { createCipher } from "../secrets/secrets.ts";
import { importSecrets } from "../secrets/seed.ts";
import { createMemoryStore } from "../store/memory_store.ts";

const KEYS = ["AIzaFAKE-TEST-sync-key-0000000000000001", "AIzaFAKE-TEST-sync-key-0000000000000002"];

async function setUp() {
  const clock = { now: Date.parse("2026-01-15T20:00:00Z") };
  const now = () => clock.now;
  const store = createMemoryStore({ now });
  const cipher = await createCipher("test-secret-key-0123456789");
  await importSecrets(store, { keys: KEYS, tokens: [], cipher, now });
  const registry = await createRegistry(store, { cipher, now });
  const pool = createKeyPool(registry, { now, strategy: () => "round_robin" });
  const logger = createLogger({ level: "error", sink: () => {} });
  const sync = createPoolSync({ store, pool, registry, now, logger });
  const [k1, k2] = registry.keys;
  return { clock, store, registry, pool, sync, k1: k1!, k2: k2! };
}

const quota = (until: number, model?: string): Verdict => ({
  errorClass: "quota_minute",
  action: "cooldown",
  until,
  reason: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
  ...(model ? { model } : {}),
});

Deno.test("noteError() files a quota cooldown under the model asked for and the model Google names", async () => {
  const { clock, pool, sync, k1, k2 } = await setUp();
  sync.noteError(k1, {
    model: "gemini-flash-latest",
    status: 429,
    verdict: quota(clock.now + 30_000, "gemini-2.5-flash"),
  });
  assertEquals(pool.cooldowns().map((c) => c.model).sort(), [
    "gemini-2.5-flash",
    "gemini-flash-latest",
  ]);
  for (const model of ["gemini-flash-latest", "gemini-2.5-flash", "gemini-flash-latest"]) {
    assertEquals(pool.pick(model).key?.id, k2.id, model);
  }
  assertEquals(pool.pick("gemini-2.5-pro").key !== null, true, "other models unaffected");
});

Deno.test("noteError() never rests a key for every model because a client named the model '*'", async () => {
  const { clock, pool, sync, k1 } = await setUp();
  sync.noteError(k1, { model: "*", status: 429, verdict: quota(clock.now + 30_000) });
  assertEquals(pool.cooldowns(), []);
  sync.noteError(k1, { model: null, status: 429, verdict: quota(clock.now + 30_000) });
  assertEquals(pool.cooldowns().map((c) => c.model), ["*"], "a request naming no model");
});

Deno.test("noteError() ignores client errors and transient failures: no state, no last error", async () => {
  const { registry, store, pool, sync, k1 } = await setUp();
  const verdicts: Verdict[] = [
    { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
    { errorClass: "location", action: "pass", reason: "LOCATION_NOT_SUPPORTED" },
    { errorClass: "upstream_unavailable", action: "retry", reason: "UNAVAILABLE" },
    classifyFailure(false),
  ];
  for (const verdict of verdicts) {
    sync.noteError(k1, { model: "gemini-2.5-flash", status: 400, verdict });
  }
  await sync.sync(true);
  assertEquals(await store.listKeyStates(), []);
  assertEquals([registry.enabledKeys.length, pool.cooldowns().length], [2, 0]);
});

Deno.test("noteSuccess() rests a key after five failures that another key then served", async () => {
  const { pool, sync, k1, k2 } = await setUp();
  const failure = { key: k1, status: 500, verdict: classifyFailure(false) };
  for (let i = 0; i < 4; i++) sync.noteSuccess(k2, [failure]);
  assertEquals(pool.cooldowns(), []);
  sync.noteSuccess(k1);
  for (let i = 0; i < 4; i++) sync.noteSuccess(k2, [failure]);
  assertEquals(pool.cooldowns(), [], "a success of its own starts the count again");
  sync.noteSuccess(k2, [failure]);
  const [cooldown] = pool.cooldowns();
  assertEquals([cooldown?.model, cooldown?.reason], ["*", "UNHEALTHY_UPSTREAM_UNREACHABLE"]);
});

Deno.test("sync(true) while a timer's sync writes also writes the counts that came meanwhile", async () => {
  const { clock, store, sync, k1 } = await setUp();
  const add = store.addKeyUsage.bind(store);
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const written: number[] = [];
  store.addKeyUsage = async (deltas) => {
    written.push(deltas.reduce((n, d) => n + d.requests, 0));
    // The timer's write is held open, as a slow store holds it.
    if (written.length === 1) await held;
    return add(deltas);
  };
  sync.countUse(k1, "gemini-2.5-flash");
  clock.now += 1_000;
  const timer = sync.sync();
  sync.countUse(k1, "gemini-2.5-flash");
  sync.countUse(k1, "gemini-2.5-flash");
  let forced = false;
  const flush = sync.sync(true).then(() => forced = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(forced, false, "the forced sync waits for a write that began after it");
  release();
  await Promise.all([timer, flush]);
  assertEquals(written, [1, 2]);
  const [total] = await store.readKeyUsage(clock.now);
  assertEquals([total?.keyId, total?.minute], [k1.id, 3]);
});
