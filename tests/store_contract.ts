/**
 * The contract every {@linkcode Store} backend must pass. Each backend's test file calls
 * {@linkcode runStoreContract} with a factory for fresh, empty stores.
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "./assert.ts";
import type { KeyRecord, LeaseRequest, Store, TokenRecord } from "../core/store/store.ts";
import type { LogRecord } from "../core/logs/log_record.ts";
import { idAt } from "../core/logs/log_filter.ts";
import { runLogSearchContract } from "./store_contract_logs.ts";
import { runAuthThrottleContract } from "./store_contract_auth_throttle.ts";
import { runCostContract } from "./store_contract_cost.ts";

/** A fresh store plus a clock the test can move, and cleanup. */
export interface ContractTarget {
  store: Store;
  clock: { now: number };
  cleanup?: () => Promise<void>;
}

function key(id: string, createdAt: number, extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    sealed: `v1.sealed.${id}`,
    masked: "AIza...TEST",
    enabled: true,
    source: "env",
    createdAt,
    ...extra,
  };
}

function token(id: string, createdAt: number): TokenRecord {
  return {
    id,
    name: `token ${id}`,
    hash: `hash-${id}`,
    masked: "gp-...TEST",
    enabled: true,
    source: "admin",
    createdAt,
  };
}

/**
 * A plausible log record for store and log tests.
 * @param id Request id (time-ordered ids sort like times).
 * @param time Epoch ms.
 * @param extra Fields to override.
 */
export function sampleLog(id: string, time: number, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    id,
    time,
    httpMethod: "POST",
    path: "/v1beta/models/m:generateContent",
    tokenId: "t1",
    tokenName: "app",
    model: "m",
    method: "generateContent",
    flavour: "native",
    stream: false,
    status: 200,
    errorClass: null,
    attempts: [],
    keyId: "k1",
    keyMasked: "AIza...TEST",
    ttfbMs: 5,
    durationMs: 9,
    bytesIn: 10,
    bytesOut: 20,
    usage: null,
    finishReason: "STOP",
    truncated: false,
    region: null,
    userAgent: null,
    ...extra,
  };
}

/**
 * Registers the contract tests for one backend.
 * @param name Backend name used in test names.
 * @param open Creates an empty store.
 */
export function runStoreContract(name: string, open: () => Promise<ContractTarget>): void {
  async function withStore(fn: (t: ContractTarget) => Promise<void>): Promise<void> {
    const target = await open();
    try {
      await fn(target);
    } finally {
      await target.store.close();
      await target.cleanup?.();
    }
  }

  runLogSearchContract(name, withStore);

  Deno.test(`${name} store: addKey inserts once and lists keys in creation order`, () =>
    withStore(async ({ store }) => {
      assert(await store.addKey(key("b", 2)));
      assert(await store.addKey(key("a", 1)));
      assertEquals(await store.addKey(key("a", 5, { masked: "changed" })), false);
      const keys = await store.listKeys();
      assertEquals(keys.map((k) => k.id), ["a", "b"]);
      assertEquals(keys[0]?.masked, "AIza...TEST");
    }));

  Deno.test(`${name} store: updateKey replaces an existing key and refuses an unknown one`, () =>
    withStore(async ({ store }) => {
      await store.addKey(key("a", 1));
      assert(
        await store.updateKey(key("a", 1, { enabled: false, disabledReason: "API_KEY_INVALID" })),
      );
      assertEquals(await store.updateKey(key("zz", 1)), false);
      const [only] = await store.listKeys();
      assertEquals(only?.enabled, false);
      assertEquals(only?.disabledReason, "API_KEY_INVALID");
      assertEquals((await store.listKeys()).length, 1);
    }));

  Deno.test(`${name} store: setKeyEnabled flips only the state and keeps the reason`, () =>
    withStore(async ({ store }) => {
      await store.addKey(key("a", 1, { project: "p1", weight: 3 }));
      const v0 = await store.version();
      const disabled = await store.setKeyEnabled("a", false, "API_KEY_INVALID", 42);
      assertEquals(disabled?.enabled, false);
      assertNotEquals(await store.version(), v0);
      const [stored] = await store.listKeys();
      assertEquals(
        [
          stored?.enabled,
          stored?.disabledReason,
          stored?.disabledAt,
          stored?.project,
          stored?.weight,
        ],
        [false, "API_KEY_INVALID", 42, "p1", 3],
      );
      const enabled = await store.setKeyEnabled("a", true);
      assertEquals([enabled?.enabled, enabled?.disabledReason], [true, undefined]);
      assertEquals(await store.setKeyEnabled("missing", false, "x"), null);
    }));

  Deno.test(`${name} store: deleteKey removes a key once`, () =>
    withStore(async ({ store }) => {
      await store.addKey(key("a", 1));
      assert(await store.deleteKey("a"));
      assertEquals(await store.deleteKey("a"), false);
      assertEquals(await store.listKeys(), []);
    }));

  Deno.test(`${name} store: tokens are added, updated, listed and deleted`, () =>
    withStore(async ({ store }) => {
      assert(await store.addToken(token("t1", 1)));
      assert(await store.addToken(token("t2", 2)));
      assertEquals(await store.addToken(token("t1", 3)), false);
      assert(await store.updateToken({ ...token("t1", 1), enabled: false }));
      assertEquals(await store.updateToken(token("nope", 1)), false);
      const tokens = await store.listTokens();
      assertEquals(tokens.map((t) => [t.id, t.enabled]), [["t1", false], ["t2", true]]);
      assert(await store.deleteToken("t2"));
      assertEquals((await store.listTokens()).map((t) => t.id), ["t1"]);
    }));

  Deno.test(`${name} store: version changes on every mutation and only then`, () =>
    withStore(async ({ store }) => {
      const v0 = await store.version();
      assertEquals(await store.version(), v0);
      await store.addKey(key("a", 1));
      const v1 = await store.version();
      assertNotEquals(v1, v0);
      await store.addKey(key("a", 1));
      assertEquals(await store.version(), v1, "a refused insert changes nothing");
      await store.updateKey(key("a", 1, { weight: 2 }));
      const v2 = await store.version();
      assertNotEquals(v2, v1);
      await store.addToken(token("t", 1));
      const v3 = await store.version();
      assertNotEquals(v3, v2);
      await store.deleteToken("t");
      assertNotEquals(await store.version(), v3);
    }));

  Deno.test(`${name} store: concurrent addKey of one id inserts exactly once`, () =>
    withStore(async ({ store }) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.addKey(key("same", i))),
      );
      assertEquals(results.filter(Boolean).length, 1);
      assertEquals((await store.listKeys()).length, 1);
    }));

  Deno.test(`${name} store: affinity is kept until its time to live passes`, () =>
    withStore(async ({ store, clock }) => {
      assertEquals(await store.getAffinity("files/abc"), null);
      await store.putAffinity("files/abc", "k1", 60_000);
      assertEquals(await store.getAffinity("files/abc"), "k1");
      clock.now += 59_000;
      assertEquals(await store.getAffinity("files/abc"), "k1");
      clock.now += 2_000;
      assertEquals(await store.getAffinity("files/abc"), null);
    }));

  Deno.test(`${name} store: cooldowns keep the later end, expire, and bump their version`, () =>
    withStore(async ({ store, clock }) => {
      const v0 = await store.cooldownVersion();
      const until = clock.now + 30_000;
      await store.setCooldown({ scope: "k:a", model: "gemini-2.5-flash", until, reason: "rpm" });
      const v1 = await store.cooldownVersion();
      assertNotEquals(v1, v0);
      await store.setCooldown({
        scope: "k:a",
        model: "gemini-2.5-flash",
        until: until - 10_000,
        reason: "rpm",
      });
      await store.setCooldown({
        scope: "p:proj",
        model: "*",
        until: clock.now + 5_000,
        reason: "x",
      });
      const listed = await store.listCooldowns();
      assertEquals(
        listed.map((c) => [c.scope, c.model, c.until]).sort(),
        [["k:a", "gemini-2.5-flash", until], ["p:proj", "*", clock.now + 5_000]].sort(),
      );
      clock.now += 6_000;
      assertEquals((await store.listCooldowns()).map((c) => c.scope), ["k:a"]);
      clock.now += 30_000;
      assertEquals(await store.listCooldowns(), []);
    }));

  Deno.test(`${name} store: key usage sums per minute and Pacific day, concurrently`, () =>
    withStore(async ({ store, clock }) => {
      const at = clock.now;
      await Promise.all(Array.from({ length: 25 }, () =>
        store.addKeyUsage([
          { keyId: "a", model: "m1", requests: 1, tokens: 10, at },
          { keyId: "b", model: "m1", requests: 2, tokens: 0, at },
        ])));
      const totals = (await store.readKeyUsage(at)).sort((x, y) => x.keyId.localeCompare(y.keyId));
      assertEquals(totals, [
        { keyId: "a", model: "m1", minute: 25, day: 25, minuteTokens: 250, dayTokens: 250 },
        { keyId: "b", model: "m1", minute: 50, day: 50, minuteTokens: 0, dayTokens: 0 },
      ]);
      const nextMinute = at + 60_000;
      await store.addKeyUsage([{
        keyId: "a",
        model: "m1",
        requests: 1,
        tokens: 1,
        at: nextMinute,
      }]);
      const later = (await store.readKeyUsage(nextMinute)).find((t) => t.keyId === "a");
      assertEquals([later?.minute, later?.day], [1, 26]);
    }));

  Deno.test(`${name} store: key states merge last-used and last-error facts`, () =>
    withStore(async ({ store }) => {
      await store.putKeyStates([{ keyId: "a", lastUsedAt: 5 }]);
      await store.putKeyStates([{
        keyId: "a",
        lastError: { at: 6, status: 429, errorClass: "quota_minute", reason: "rpm" },
      }]);
      assertEquals(await store.listKeyStates(), [{
        keyId: "a",
        lastUsedAt: 5,
        lastError: { at: 6, status: 429, errorClass: "quota_minute", reason: "rpm" },
      }]);
    }));

  Deno.test(`${name} store: logs list newest first with filters and cursor pages`, () =>
    withStore(async ({ store }) => {
      const records = Array.from(
        { length: 25 },
        (_, i) =>
          sampleLog(`${idAt(1000 + i)}00ab`, 1000 + i, {
            status: i % 5 === 0 ? 429 : 200,
            errorClass: i % 5 === 0 ? "quota_minute" : null,
            model: i % 2 ? "a" : "b",
            stream: i % 3 === 0,
          }),
      );
      await store.insertLogs(records.slice(0, 10), [], 60_000);
      await store.insertLogs(records.slice(10), [], 60_000);
      const first = await store.listLogs({}, 10);
      assertEquals(first.logs.map((l) => l.time), Array.from({ length: 10 }, (_, i) => 1024 - i));
      assert(first.cursor);
      const second = await store.listLogs({}, 10, first.cursor);
      assertEquals(second.logs[0]?.time, 1014);
      const third = await store.listLogs({}, 10, second.cursor);
      assertEquals([third.logs.length, third.cursor], [5, null]);
      const errors = await store.listLogs({ status: "4xx" }, 100);
      assertEquals(errors.logs.map((l) => l.time), [1020, 1015, 1010, 1005, 1000]);
      assertEquals(
        (await store.listLogs({ errorClass: "quota_minute", model: "b" }, 100)).logs.length,
        3,
      );
      assertEquals(
        (await store.listLogs({ stream: true, from: 1010, to: 1020 }, 100)).logs.map((l) => l.time),
        [1018, 1015, 1012],
      );
      assertEquals((await store.getLog(records[3]!.id))?.time, 1003);
      assertEquals(await store.getLog("missing"), null);
    }));

  Deno.test(`${name} store: aggregates sum per bucket and dimensions and read by range`, () =>
    withStore(async ({ store, clock }) => {
      const hour = Math.floor(clock.now / 3_600_000) * 3_600_000 - 2 * 3_600_000;
      const delta = (at: number, field: string, value: number, model = "m") => ({
        bucket: hour + at,
        granularity: "h" as const,
        keyId: "k1",
        model,
        tokenId: "t1",
        field,
        value,
      });
      await Promise.all(
        Array.from({ length: 10 }, () =>
          store.insertLogs([], [
            delta(3_600_000, "requests", 1),
            delta(3_600_000, "tokens:total", 7),
          ], 60_000)),
      );
      await store.insertLogs(
        [],
        [delta(7_200_000, "requests", 2, "n"), delta(0, "requests", 5)],
        60_000,
      );
      const rows = await store.readAggregates("h", hour + 3_600_000, hour + 10_800_000);
      const byModel = Object.fromEntries(
        rows.map((r) => [`${r.bucket - hour}:${r.model}`, r.fields]),
      );
      assertEquals(byModel, {
        "3600000:m": { requests: 10, "tokens:total": 70 },
        "7200000:n": { requests: 2 },
      });
      assertEquals(await store.readAggregates("m", hour, hour + 10_800_000), []);
    }));

  Deno.test(`${name} store: named counters add up`, () =>
    withStore(async ({ store }) => {
      assertEquals(await store.readCounter("logs_dropped"), 0);
      await Promise.all([store.addCounter("logs_dropped", 2), store.addCounter("logs_dropped", 3)]);
      assertEquals(await store.readCounter("logs_dropped"), 5);
    }));

  // Token usage

  Deno.test(`${name} store: token usage adds up per minute, Pacific day and month`, () =>
    withStore(async ({ store, clock }) => {
      const at = clock.now;
      await Promise.all(Array.from({ length: 10 }, () =>
        store.addTokenUsage([
          { tokenId: "t", requests: 0, tokens: 60, at },
          { tokenId: "u", requests: 1, tokens: 5, at },
        ])));
      await store.addTokenUsage([{ tokenId: "t", requests: 2, tokens: 400, at: at + 60_000 }]);
      assertEquals(await store.readTokenUsage("t", at + 60_000), {
        minuteRequests: 2,
        dayRequests: 2,
        dayTokens: 1000,
        monthRequests: 2,
        monthTokens: 1000,
        monthCostMicros: 0,
      });
      assertEquals(await store.readTokenUsage("u", at), {
        minuteRequests: 10,
        dayRequests: 10,
        dayTokens: 50,
        monthRequests: 10,
        monthTokens: 50,
        monthCostMicros: 0,
      });
      const tomorrow = at + 24 * 3_600_000;
      assertEquals(await store.readTokenUsage("t", tomorrow), {
        minuteRequests: 0,
        dayRequests: 0,
        dayTokens: 0,
        monthRequests: 2,
        monthTokens: 1000,
        monthCostMicros: 0,
      });
      assertEquals((await store.readTokenUsage("nobody", at)).monthTokens, 0);
    }));

  // Limit leases

  const lease = (
    counter: string,
    want: number,
    cap: number,
    extra: Partial<LeaseRequest> = {},
  ) => ({
    counter,
    window: "m100",
    settle: 0,
    want,
    cap,
    expiresAt: 1_800_000_000_000,
    ...extra,
  });

  Deno.test(`${name} store: leases grant up to the cap, per counter and window`, () =>
    withStore(async ({ store }) => {
      assertEquals(await store.takeLeases([lease("c", 4, 10)]), [{ granted: 4, used: 4 }]);
      assertEquals(await store.takeLeases([lease("c", 9, 10)]), [{ granted: 6, used: 10 }]);
      assertEquals(await store.takeLeases([lease("c", 1, 10)]), [{ granted: 0, used: 10 }]);
      assertEquals(await store.takeLeases([lease("c", 1, 12)]), [{ granted: 1, used: 11 }]);
      // Other counters and other windows of the same counter start from zero.
      assertEquals(
        await store.takeLeases([lease("d", 3, 10), lease("c", 2, 10, { window: "m101" })]),
        [
          { granted: 3, used: 3 },
          { granted: 2, used: 2 },
        ],
      );
      assertEquals(await store.takeLeases([]), []);
    }));

  Deno.test(`${name} store: a lease settles first, beyond the cap and never below zero`, () =>
    withStore(async ({ store }) => {
      await store.takeLeases([lease("c", 10, 10)]);
      // Handing back 3 unused units makes room for 3 more.
      assertEquals(await store.takeLeases([lease("c", 5, 10, { settle: -3 })]), [
        { granted: 3, used: 10 },
      ]);
      // Units spent beyond what was held are recorded past the cap; nothing is granted then.
      assertEquals(await store.takeLeases([lease("c", 1, 10, { settle: 4 })]), [
        { granted: 0, used: 14 },
      ]);
      assertEquals(await store.takeLeases([lease("c", 0, 10, { settle: -100 })]), [
        { granted: 0, used: 0 },
      ]);
      // One call applies its requests in order, a counter named twice included.
      assertEquals(
        await store.takeLeases([
          lease("c", 6, 10),
          lease("c", 6, 10),
          lease("c", 1, 10, { settle: -2 }),
        ]),
        [{ granted: 6, used: 6 }, { granted: 4, used: 10 }, { granted: 1, used: 9 }],
      );
      // A lowered cap grants nothing while the counter is above it.
      assertEquals(await store.takeLeases([lease("c", 1, 5)]), [{ granted: 0, used: 9 }]);
    }));

  Deno.test(`${name} store: 100 concurrent lease takes never grant past the cap`, () =>
    withStore(async ({ store }) => {
      const ones = await Promise.all(
        Array.from({ length: 100 }, () => store.takeLeases([lease("one", 1, 10)])),
      );
      assertEquals(ones.filter(([g]) => g!.granted === 1).length, 10);
      assertEquals(ones.flat().reduce((sum, g) => sum + g.granted, 0), 10);
      // Mixed sizes, several counters per call: every grant fits, and the caps are used whole.
      const mixed = await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) => store.takeLeases([lease("a", 1 + (i % 5), 57), lease("b", 1 + (i % 3), 23)]),
        ),
      );
      const sums = [0, 1].map((j) => mixed.reduce((sum, grants) => sum + grants[j]!.granted, 0));
      assertEquals(sums, [57, 23]);
      for (const grants of mixed) {
        assert(grants[0]!.granted <= grants[0]!.used && grants[0]!.used <= 57);
      }
      assertEquals(await store.takeLeases([lease("a", 0, 57), lease("b", 0, 23)]), [
        { granted: 0, used: 57 },
        { granted: 0, used: 23 },
      ]);
    }));

  Deno.test(`${name} store: counting sets lastUsedAt; counting and leasing never change the version`, () =>
    withStore(async ({ store, clock }) => {
      await store.addToken(token("t1", 1));
      await store.addToken(token("t2", 2));
      const v0 = await store.version();
      await store.takeLeases([lease("t:t1:rpm", 5, 10)]);
      await store.addTokenUsage([{ tokenId: "t1", requests: 1, tokens: 0, at: clock.now }]);
      await store.addTokenUsage([{ tokenId: "t2", requests: 2, tokens: 9, at: clock.now + 7 }]);
      await store.addTokenUsage([{ tokenId: "t2", requests: 1, tokens: 0, at: clock.now + 3 }]);
      await store.addTokenUsage([{ tokenId: "t1", requests: 0, tokens: 9, at: clock.now + 9 }]);
      assertEquals(await store.version(), v0);
      const listed = await store.listTokens();
      assertEquals(listed.map((t) => [t.id, t.lastUsedAt]), [
        ["t1", clock.now],
        ["t2", clock.now + 7],
      ]);
    }));

  Deno.test(`${name} store: settings are replaced whole and bump the version`, () =>
    withStore(async ({ store }) => {
      assertEquals(await store.getSettings(), {});
      const v0 = await store.version();
      await store.putSettings({ rotationStrategy: "weighted", maxAttempts: 4 });
      assertEquals(await store.getSettings(), { rotationStrategy: "weighted", maxAttempts: 4 });
      assertNotEquals(await store.version(), v0);
      await store.putSettings({ logBodies: "errors" });
      assertEquals(await store.getSettings(), { logBodies: "errors" });
    }));

  runAuthThrottleContract(name, withStore);

  Deno.test(`${name} store: ping answers while the store is open`, () =>
    withStore(async ({ store }) => {
      await store.ping();
    }));

  runCostContract(name, withStore);
}
