/**
 * The sign-in throttle's part of the store contract: compare-and-set of throttle scopes, atomic
 * across concurrent writers, and the throttle itself on the backend. Registered by
 * {@linkcode runStoreContract} for every backend.
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "../assert.ts";
import { createAuthThrottle } from "../../../core/admin/auth_throttle.ts";
import type { AuthThrottleState } from "../../../core/store/mod.ts";
import type { ContractTarget } from "./_fixtures.ts";

function state(failures: number, failedAt: number): AuthThrottleState {
  return { failures, failedAt, pending: 0, pendingAt: 0 };
}

/**
 * Registers the throttle's contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test on a fresh store.
 */
export function runAuthThrottleContract(
  name: string,
  withStore: (fn: (t: ContractTarget) => Promise<void>) => Promise<void>,
): void {
  Deno.test(`${name} store: sign-in throttle writes apply only while every version matches`, () =>
    withStore(async ({ store, clock }) => {
      const expiresAt = clock.now + 3_600_000;
      const [empty] = await store.readAuthThrottle(["admin:ip:a"]);
      assertEquals(empty, { scope: "admin:ip:a", state: null, version: null });
      const write = (scope: string, version: string | null, s: AuthThrottleState | null) => ({
        scope,
        version,
        state: s,
        expiresAt,
      });
      assert(await store.writeAuthThrottle([write("admin:ip:a", null, state(1, clock.now))]));
      const [a1] = await store.readAuthThrottle(["admin:ip:a"]);
      assertEquals(a1?.state, state(1, clock.now));
      assert(a1?.version);
      assertEquals(
        await store.writeAuthThrottle([write("admin:ip:a", null, state(9, 0))]),
        false,
        "an absent version no longer matches",
      );
      // A batch whose second scope does not match changes nothing, not even its first scope.
      assertEquals(
        await store.writeAuthThrottle([
          write("admin:*", null, state(5, 5)),
          write("admin:ip:a", "not-a-version", state(2, 2)),
        ]),
        false,
      );
      const both = await store.readAuthThrottle(["admin:*", "admin:ip:a"]);
      assertEquals(both.map((e) => [e.scope, e.state]), [
        ["admin:*", null],
        ["admin:ip:a", state(1, clock.now)],
      ]);
      assert(await store.writeAuthThrottle([write("admin:ip:a", a1.version, null)]));
      assertEquals((await store.readAuthThrottle(["admin:ip:a"]))[0]?.state, null);
      assert(await store.writeAuthThrottle([write("admin:ip:a", null, state(1, clock.now))]));
      const [again] = await store.readAuthThrottle(["admin:ip:a"]);
      assertNotEquals(again?.version, a1.version, "a version is never reused");
    }));

  Deno.test(`${name} store: of 20 concurrent throttle writes from one read, one wins`, () =>
    withStore(async ({ store, clock }) => {
      const [entry] = await store.readAuthThrottle(["admin:*"]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.writeAuthThrottle([{
            scope: "admin:*",
            version: entry!.version,
            state: state(i + 1, clock.now),
            expiresAt: clock.now + 60_000,
          }])),
      );
      assertEquals(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true) + 1;
      assertEquals((await store.readAuthThrottle(["admin:*"]))[0]?.state, state(winner, clock.now));
    }));

  Deno.test(`${name} store: two throttles on it compare 5 of 60 concurrent wrong passwords`, () =>
    withStore(async ({ store, clock }) => {
      const now = () => clock.now;
      const processes = [createAuthThrottle({ store, now }), createAuthThrottle({ store, now })];
      let compared = 0;
      const verdicts = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          processes[i % 2]!.check("admin", "203.0.113.7", () => {
            compared++;
            return false;
          })),
      );
      assertEquals(compared, 5);
      assertEquals(verdicts.filter((v) => v.result === "refused").length, 5);
      clock.now += 2000;
      const right = await processes[1]!.check("admin", "203.0.113.7", () => true);
      assertEquals(right.result, "throttled", "locked for a minute from the fifth failure");
    }));
}
