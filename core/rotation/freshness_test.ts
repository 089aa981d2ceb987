import { assert, assertEquals } from "../../tests/support/assert.ts";
import { createFreshness, type FreshnessOptions } from "./freshness.ts";

/** A probe the test answers by hand, counting calls, on a movable clock. */
function setUp(options: Partial<FreshnessOptions> = {}) {
  const clock = { now: 1_000_000 };
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const errors: unknown[] = [];
  const freshness = createFreshness({
    probe: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    now: () => clock.now,
    onError: (e) => errors.push(e),
    ...options,
  });
  /** Answers every probe waiting. */
  function answer(error?: Error): void {
    for (const p of pending.splice(0)) error ? p.reject(error) : p.resolve();
  }
  return { clock, pending, errors, freshness, answer };
}

/** Lets promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("ensureFresh() costs nothing while the view is younger than the bound", async () => {
  const { clock, pending, freshness } = setUp();
  freshness.markFresh(clock.now);
  clock.now += 999;
  assertEquals(freshness.ensureFresh(), undefined, "nothing to await for a view 999 ms old");
  assertEquals(pending.length, 0, "no probe for a view 999 ms old");
  clock.now += 1;
  const waiting = freshness.ensureFresh();
  assertEquals(pending.length, 1, "a view 1000 ms old is probed");
  assert(waiting, "a probe to wait for");
  let done = false;
  void waiting.then(() => done = true);
  await settle();
  assert(!done, "the request waits for the probe");
  pending[0]!.resolve();
  await waiting;
  assertEquals(freshness.checkedAt, clock.now, "fresh as of the probe's start");
});

Deno.test("ensureFresh() makes concurrent stale callers share one probe", async () => {
  const { pending, freshness, answer } = setUp();
  const callers = Array.from({ length: 500 }, () => freshness.ensureFresh());
  assertEquals(pending.length, 1);
  answer();
  await Promise.all(callers);
  await freshness.ensureFresh();
  assertEquals(pending.length, 0, "fresh after the shared probe");
});

Deno.test("ensureFresh() does not trust a probe that started more than the bound ago", async () => {
  const { clock, pending, freshness, answer } = setUp();
  const early = freshness.ensureFresh();
  // The store is slow: a change committed now may postdate what the first probe read.
  clock.now += 1500;
  const late = freshness.ensureFresh();
  const lateToo = freshness.ensureFresh();
  assertEquals(pending.length, 1, "one probe at a time");
  assert(late, "late callers wait");
  answer();
  await early;
  await settle();
  assertEquals(pending.length, 1, "a second probe follows for the late callers, shared");
  let lateDone = false;
  void late.then(() => lateDone = true);
  await settle();
  assert(!lateDone, "late callers wait for the probe that started after them");
  answer();
  await Promise.all([late, lateToo]);
  assertEquals(freshness.checkedAt, clock.now);
});

Deno.test("ensureFresh() serves the view when the store fails, probing again only after the bound", async () => {
  const { clock, pending, errors, freshness, answer } = setUp();
  freshness.markFresh(clock.now);
  clock.now += 5000;
  const first = freshness.ensureFresh();
  answer(new Error("store down"));
  await first;
  assert(freshness.degraded);
  assertEquals(errors.length, 1);
  for (let i = 0; i < 100; i++) await freshness.ensureFresh();
  assertEquals(pending.length, 0, "no probe per request while the store fails");
  clock.now += 1000;
  const retry = freshness.ensureFresh();
  assertEquals(pending.length, 1, "one probe after the bound");
  answer();
  await retry;
  assert(!freshness.degraded);
});

Deno.test("ensureFresh() gives up on a probe slower than the timeout and counts it failed", async () => {
  const { pending, errors, freshness } = setUp({ timeoutMs: 5 });
  await freshness.ensureFresh(); // the probe never answers
  assertEquals(pending.length, 1);
  assert(freshness.degraded);
  assert(String(errors[0]).includes("did not answer within 5 ms"), String(errors[0]));
});

Deno.test("check() joins the probe in flight and markFresh() never moves the view back", async () => {
  const { clock, pending, freshness, answer } = setUp();
  const a = freshness.check();
  const b = freshness.check();
  assertEquals(pending.length, 1);
  answer();
  await Promise.all([a, b]);
  const probed = freshness.checkedAt;
  freshness.markFresh(probed - 10);
  assertEquals(freshness.checkedAt, probed);
  freshness.markFresh(clock.now + 10);
  assertEquals(freshness.checkedAt, clock.now + 10);
});
