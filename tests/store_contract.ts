/**
 * The contract every {@linkcode Store} backend must pass. Each backend's test file calls
 * {@linkcode runStoreContract} with a factory for fresh, empty stores.
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "./assert.ts";
import type { KeyRecord, Store, TokenRecord } from "../core/store/store.ts";

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

  Deno.test(`${name} store: ping answers while the store is open`, () =>
    withStore(async ({ store }) => {
      await store.ping();
    }));
}
