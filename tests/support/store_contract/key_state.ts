/**
 * The store contract: affinity, cooldowns, key usage per minute and Pacific day, key states.
 * Run by `runStoreContract`.
 * @module
 */
import { assertEquals, assertNotEquals } from "../assert.ts";
import { type WithStore } from "./_fixtures.ts";

/**
 * Registers these contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test on a fresh store.
 */
export function runKeyStateContract(name: string, withStore: WithStore): void {
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
}
