import { assert, assertEquals } from "../../tests/support/assert.ts";
import { createLogger } from "../logs/logger.ts";
import {
  type AuthThrottleStorage,
  createMemoryAuthThrottle,
} from "../store/memory_auth_throttle.ts";
import { type AuthRealm, type AuthThrottle, createAuthThrottle } from "./auth_throttle.ts";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

function setup(storage?: AuthThrottleStorage) {
  const clock = { now: T0 };
  const now = () => clock.now;
  const store = storage ?? createMemoryAuthThrottle({ now });
  const throttle = createAuthThrottle({ store, now });
  let compared = 0;
  /** One attempt: `right` says whether the secret matches. */
  const attempt = (
    address: string,
    right: boolean,
    options: { realm?: AuthRealm; t?: AuthThrottle | undefined } = {},
  ) =>
    (options.t ?? throttle).check(options.realm ?? "admin", address, () => {
      compared++;
      return right;
    });
  return { clock, store, throttle, attempt, compared: () => compared };
}

Deno.test("check() allows 5 wrong passwords per address, then refuses even the right one", async () => {
  const { clock, attempt, compared } = setup();
  for (let i = 0; i < 5; i++) {
    assertEquals(await attempt("203.0.113.7", false), { result: "refused" });
    clock.now += 1000;
  }
  const lockEnds = T0 + 4000 + MINUTE;
  assertEquals(await attempt("203.0.113.7", true), { result: "throttled", retryAt: lockEnds });
  assertEquals(compared(), 5, "no secret is compared during a lock-out");
  assertEquals(await attempt("198.51.100.1", true), { result: "accepted" }, "other addresses");
  clock.now = lockEnds;
  assertEquals(await attempt("203.0.113.7", true), { result: "accepted" });
});

Deno.test("check() doubles the lock with every wrong password past 5, up to 15 minutes", async () => {
  const { clock, attempt } = setup();
  for (let i = 0; i < 5; i++) await attempt("a", false);
  const locks: number[] = [];
  for (let i = 0; i < 7; i++) {
    const verdict = await attempt("a", false);
    assert(verdict.result === "throttled");
    locks.push((verdict.retryAt - clock.now) / MINUTE);
    clock.now = verdict.retryAt;
    assertEquals((await attempt("a", false)).result, "refused", "one guess once the lock ends");
  }
  assertEquals(locks, [1, 2, 4, 8, 15, 15, 15]);
});

Deno.test("check() forgets an address's failures after a right password or an hour", async () => {
  const { clock, attempt } = setup();
  for (let i = 0; i < 4; i++) await attempt("a", false);
  assertEquals((await attempt("a", true)).result, "accepted");
  for (let i = 0; i < 4; i++) assertEquals((await attempt("a", false)).result, "refused");
  clock.now += 60 * MINUTE;
  for (let i = 0; i < 5; i++) assertEquals((await attempt("a", false)).result, "refused");
  assertEquals((await attempt("a", false)).result, "throttled");
});

Deno.test("check() locks every address after 50 wrong passwords in total", async () => {
  const { clock, attempt } = setup();
  for (let i = 0; i < 50; i++) {
    assertEquals((await attempt(`198.51.100.${i}`, false)).result, "refused");
  }
  const verdict = await attempt("203.0.113.200", true);
  assertEquals(verdict, { result: "throttled", retryAt: clock.now + MINUTE });
  clock.now += MINUTE;
  assertEquals((await attempt("203.0.113.200", true)).result, "accepted");
  assertEquals((await attempt("203.0.113.201", false)).result, "refused");
  assertEquals((await attempt("203.0.113.202", true)).result, "throttled", "2 minutes now");
});

Deno.test("check() compares only 5 of 100 concurrent guesses, over two throttles on one store", async () => {
  const { store, attempt, compared, clock } = setup();
  const other = createAuthThrottle({ store, now: () => clock.now });
  const verdicts = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) => attempt("a", i === 99, { realm: "admin", t: i % 2 ? other : undefined }),
    ),
  );
  assertEquals(compared(), 5);
  assertEquals(verdicts.filter((v) => v.result === "refused").length, 5);
  const last = verdicts[99]!;
  assert(last.result === "throttled", "the right password, late in the burst, is refused");
  assertEquals(
    verdicts.filter((v) => v.result === "throttled").length,
    95,
  );
});

Deno.test("check() counts the admin password and the metrics token apart", async () => {
  const { attempt } = setup();
  for (let i = 0; i < 5; i++) await attempt("a", false, { realm: "metrics" });
  assertEquals((await attempt("a", true, { realm: "metrics" })).result, "throttled");
  assertEquals((await attempt("a", true, { realm: "admin" })).result, "accepted");
});

Deno.test("check() groups IPv6 addresses by /64", async () => {
  const { attempt } = setup();
  for (let i = 0; i < 5; i++) await attempt(`2001:db8:1:2::${i + 1}`, false);
  assertEquals((await attempt("2001:db8:1:2:ffff::9", true)).result, "throttled");
  assertEquals((await attempt("2001:db8:1:3::1", true)).result, "accepted");
});

Deno.test("check() keeps counting in process while the store fails", async () => {
  const clock = { now: T0 };
  const lines: string[] = [];
  const broken: AuthThrottleStorage = {
    readAuthThrottle: () => Promise.reject(new Error("store down")),
    writeAuthThrottle: () => Promise.reject(new Error("store down")),
  };
  const throttle = createAuthThrottle({
    store: broken,
    now: () => clock.now,
    logger: createLogger({ now: () => clock.now, sink: (_l, line) => lines.push(line) }),
  });
  for (let i = 0; i < 5; i++) {
    assertEquals((await throttle.check("admin", "a", () => false)).result, "refused");
  }
  assertEquals((await throttle.check("admin", "a", () => true)).result, "throttled");
  assertEquals(lines.filter((l) => l.includes("sign-in throttle")).length, 1, "warned once");
});

Deno.test("check() writes a bounded number of scopes whatever the flood of addresses", async () => {
  const clock = { now: T0 };
  const inner = createMemoryAuthThrottle({ now: () => clock.now });
  const written = new Set<string>();
  const store: AuthThrottleStorage = {
    readAuthThrottle: inner.readAuthThrottle,
    writeAuthThrottle(writes) {
      for (const w of writes) written.add(w.scope);
      return inner.writeAuthThrottle(writes);
    },
  };
  const throttle: AuthThrottle = createAuthThrottle({ store, now: () => clock.now });
  let compared = 0;
  for (let i = 0; i < 5000; i++) {
    await throttle.check("admin", `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, () => {
      compared++;
      return false;
    });
    clock.now += 10;
  }
  assertEquals(compared, 50, "the total's lock holds every address back");
  assertEquals(written.size, 51, "50 addresses and the total");
});

Deno.test("createMemoryAuthThrottle() keeps at most maxScopes, dropping the least recent", async () => {
  const storage = createMemoryAuthThrottle({ now: () => 0, maxScopes: 3 });
  const state = { failures: 1, failedAt: 0, pending: 0, pendingAt: 0 };
  for (const scope of ["a", "b", "c", "d"]) {
    assert(await storage.writeAuthThrottle([{ scope, version: null, state, expiresAt: 10 }]));
  }
  const read = await storage.readAuthThrottle(["a", "b", "c", "d"]);
  assertEquals(read.map((e) => e.state !== null), [false, true, true, true]);
});
