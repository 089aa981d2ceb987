/**
 * The store contract: keys and tokens are added, updated, listed and deleted once each, and
 * every change moves the version.
 * Run by `runStoreContract`.
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "../assert.ts";
import { key, token, type WithStore } from "./_fixtures.ts";

/**
 * Registers these contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test on a fresh store.
 */
export function runKeysTokensContract(name: string, withStore: WithStore): void {
  Deno.test(`${name} store: addKey inserts once and lists keys in creation order`, () =>
    withStore(async ({ store }) => {
      assert(await store.addKey(key("b", 2)));
      assert(await store.addKey(key("a", 1)));
      assertEquals(await store.addKey(key("a", 5, { masked: "changed" })), false);
      const keys = await store.listKeys();
      assertEquals(keys.map((k) => k.id), ["a", "b"]);
      assertEquals(keys[0]?.masked, "AIza...TEST");
    }));

  Deno.test(`${name} store: addKeys inserts a bulk import, skips stored ids and moves the version`, () =>
    withStore(async ({ store }) => {
      assert(await store.addKey(key("k0050", 1, { masked: "kept" })));
      const v0 = await store.version();
      const records = Array.from(
        { length: 250 },
        (_, i) => key(`k${String(i).padStart(4, "0")}`, i),
      );
      const added = await store.addKeys(records);
      assertEquals(added.length, 249);
      assertEquals(added.includes("k0050"), false, "the stored key is not replaced");
      assertNotEquals(await store.version(), v0);
      const stored = await store.listKeys();
      assertEquals(stored.length, 250);
      assertEquals(stored.find((k) => k.id === "k0050")?.masked, "kept");
      const v1 = await store.version();
      assertEquals(await store.addKeys(records.slice(0, 10)), [], "all stored: none added");
      assertEquals(await store.addKeys([]), []);
      assertEquals((await store.listKeys()).length, 250);
      assertEquals(await store.version(), v1, "nothing added: the version stays");
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
      const disabled = await store.setKeyEnabled("a", false, { reason: "API_KEY_INVALID", at: 42 });
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
      assertEquals(await store.setKeyEnabled("missing", false, { reason: "x" }), null);
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
}
