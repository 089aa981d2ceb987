/**
 * The store contract: limit leases grant up to the cap and settle first, even concurrently.
 * Run by `runStoreContract`.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import type { LeaseRequest } from "../../../core/store/mod.ts";
import { token, type WithStore } from "./_fixtures.ts";

/**
 * Registers these contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test on a fresh store.
 */
export function runLeasesContract(name: string, withStore: WithStore): void {
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
}
