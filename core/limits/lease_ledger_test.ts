import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { createLogger } from "../logs/logger.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { LeaseGrant, LeaseRequest, Store } from "../store/mod.ts";
import { createLeaseLedger, type Demand, type LeaseLedger } from "./lease_ledger.ts";
import { windowAt } from "../store/windows.ts";

// 2026-01-15 12:00:00 PST, at the start of a minute.
const START = Date.parse("2026-01-15T20:00:00Z");

/** A memory store whose lease calls are counted, and can be held back or made to fail. */
function gatedStore(clock: { now: number }) {
  const inner = createMemoryStore({ now: () => clock.now });
  const held: (() => void)[] = [];
  const gate = { calls: 0, holding: false, failing: false };
  const store: Pick<Store, "takeLeases"> = {
    async takeLeases(requests: LeaseRequest[]): Promise<LeaseGrant[]> {
      gate.calls++;
      if (gate.holding) await new Promise<void>((resolve) => held.push(resolve));
      if (gate.failing) throw new Error("store down");
      return await inner.takeLeases(requests);
    },
  };
  return {
    store,
    gate,
    release() {
      gate.holding = false;
      for (const resolve of held.splice(0)) resolve();
    },
    /** The counter's total in the store (a zero-want lease reads it). */
    async used(counter: string, window: string): Promise<number> {
      const [grant] = await inner.takeLeases([
        { counter, window, settle: 0, want: 0, cap: 0, expiresAt: START + 86_400_000 },
      ]);
      return grant!.used;
    },
  };
}

function ledgerOn(
  store: Pick<Store, "takeLeases">,
  clock: { now: number },
  maxCounters?: number,
): LeaseLedger {
  return createLeaseLedger({
    store,
    now: () => clock.now,
    logger: createLogger({ sink: () => {} }),
    ...(maxCounters ? { maxCounters } : {}),
  });
}

/** Lets every queued microtask (and the promise chains they start) run. */
function settled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Whether a promise has settled once the microtask queue is empty. */
async function isDone(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await settled();
  return done;
}

const rpm = (cap: number, want = 1): Demand => ({ counter: "c:rpm", kind: "minute", cap, want });
const tpd = (cap: number, want: number): Demand => ({ counter: "c:tpd", kind: "day", cap, want });

Deno.test("take() leases on first use, then spends from its block while the store is held back", async () => {
  const clock = { now: START + 1000 };
  const { store, gate, release } = gatedStore(clock);
  const ledger = ledgerOn(store, clock);
  gate.holding = true;
  const first = ledger.take([rpm(100_000)]);
  assertEquals(await isDone(first), false, "the first take waits for a lease");
  release();
  assert((await first).ok);
  // Steady traffic: 100 requests a second. Refills start in the background as the block runs low.
  for (let i = 0; i < 200; i++) {
    clock.now += 10;
    assert((await ledger.take([rpm(100_000)])).ok);
    await settled();
  }
  assert(gate.calls < 30, `${gate.calls} store calls for 201 takes`);
  gate.holding = true;
  for (let i = 0; i < 20; i++) {
    clock.now += 10;
    const take = ledger.take([rpm(100_000)]);
    assert(await isDone(take), `take ${i} waited for the held-back store`);
    assert((await take).ok);
  }
  release();
  await ledger.sync({ releaseAll: true });
});

Deno.test("two ledgers on one store: of 100 concurrent takes under a cap of 10, exactly 10 pass", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const a = ledgerOn(shared.store, clock);
  const b = ledgerOn(shared.store, clock);
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).take([rpm(10)])),
  );
  assertEquals(results.filter((r) => r.ok).length, 10);
  const nextMinute = START + 60_000;
  for (const r of results.filter((r) => !r.ok)) {
    assertEquals(r, { ok: false, index: 0, retryAt: nextMinute });
  }
  await Promise.all([a.sync({ releaseAll: true }), b.sync({ releaseAll: true })]);
  assertEquals(await shared.used("c:rpm", windowAt("minute", clock.now).name), 10);
  clock.now = nextMinute;
  assert((await a.take([rpm(10)])).ok, "a new minute, a new count");
});

Deno.test("take() spends all demands or none, and names the refusing one", async () => {
  const clock = { now: START + 1000 };
  const { store } = gatedStore(clock);
  const ledger = ledgerOn(store, clock);
  const day = (cap: number): Demand => ({ counter: "c:rpd", kind: "day", cap, want: 1 });
  assert((await ledger.take([day(1), rpm(5)])).ok);
  const refused = await ledger.take([rpm(5), day(1)]);
  assertEquals(refused, { ok: false, index: 1, retryAt: Date.parse("2026-01-16T08:00:00Z") });
  // The minute's unit the refused request did not spend is still there: 4 more pass.
  const more = await Promise.all(Array.from({ length: 5 }, () => ledger.take([rpm(5)])));
  assertEquals(more.filter((r) => r.ok).length, 4);
});

Deno.test("settle() hands back an unused reservation and owes what a request spent beyond it", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const ledger = ledgerOn(shared.store, clock);
  const day = windowAt("day", clock.now).name;
  const first = await ledger.take([tpd(1000, 300)]);
  assert(first.ok);
  ledger.settle(first.grant, 0, 100);
  const second = await ledger.take([tpd(1000, 600)]);
  assert(second.ok);
  // Spent 1,100 where 600 was reserved: the 500 beyond is owed, past the cap if need be.
  ledger.settle(second.grant, 0, 1100);
  await ledger.sync({ releaseAll: true });
  assertEquals(await shared.used("c:tpd", day), 100 + 1100, "the store counts what was spent");
  assertEquals(ledger.inspect("c:tpd")?.held, 0);
  const refused = await ledger.take([tpd(1000, 1)]);
  assertEquals(refused, { ok: false, index: 0, retryAt: Date.parse("2026-01-16T08:00:00Z") });
});

Deno.test("sync() hands back a block idle for idleMs, and everything with releaseAll", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const ledger = ledgerOn(shared.store, clock);
  const minute = windowAt("minute", clock.now).name;
  for (let i = 0; i < 50; i++) {
    clock.now += 20;
    assert((await ledger.take([rpm(10_000)])).ok);
    await settled();
  }
  const held = ledger.inspect("c:rpm")!.held;
  assert(held > 0, "a block is held");
  assertEquals(await shared.used("c:rpm", minute), 50 + held);
  clock.now += 2000;
  await ledger.sync();
  assertEquals(ledger.inspect("c:rpm")!.held, held, "2 s idle: kept");
  clock.now += 1000;
  await ledger.sync();
  assertEquals(await shared.used("c:rpm", minute), 50, "3 s idle: handed back");
  assertEquals(ledger.inspect("c:rpm")!.held, 0);
});

Deno.test("near a window's end the next window is leased ahead, so the turn does not wait", async () => {
  const clock = { now: START + 50_000 };
  const { store, gate, release } = gatedStore(clock);
  const ledger = ledgerOn(store, clock);
  for (let i = 0; i < 100; i++) {
    clock.now += 95;
    assert((await ledger.take([rpm(100_000)])).ok);
    await settled();
  }
  assert(clock.now >= START + 59_000 && clock.now < START + 60_000);
  gate.holding = true;
  clock.now = START + 60_010;
  const take = ledger.take([rpm(100_000)]);
  assert(await isDone(take), "the first take of the new minute waited for the store");
  assert((await take).ok);
  assertEquals(ledger.inspect("c:rpm")?.window, windowAt("minute", clock.now).name);
  release();
});

Deno.test("a lowered cap hands back what was leased under the higher one", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const ledger = ledgerOn(shared.store, clock);
  const minute = windowAt("minute", clock.now).name;
  for (let i = 0; i < 30; i++) {
    clock.now += 10;
    await ledger.take([rpm(1000)]);
    await settled();
  }
  assert(ledger.inspect("c:rpm")!.held > 0);
  // 30 spent: a cap of 32 leaves 2, whatever this instance held.
  const results = await Promise.all(Array.from({ length: 5 }, () => ledger.take([rpm(32)])));
  assertEquals(results.filter((r) => r.ok).length, 2);
  await ledger.sync({ releaseAll: true });
  assertEquals(await shared.used("c:rpm", minute), 32);
});

Deno.test("an unreachable store fails a take that needs it; what force() owes is sent later", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const ledger = ledgerOn(shared.store, clock);
  const minute = windowAt("minute", clock.now).name;
  shared.gate.failing = true;
  await assertRejects(() => ledger.take([rpm(10)]));
  ledger.force([rpm(10, 3)]);
  await ledger.sync();
  assertEquals(ledger.inspect("c:rpm")?.owed, 3, "still owed after a failed send");
  shared.gate.failing = false;
  await ledger.sync();
  assertEquals(await shared.used("c:rpm", minute), 3);
  const results = await Promise.all(Array.from({ length: 10 }, () => ledger.take([rpm(10)])));
  assertEquals(results.filter((r) => r.ok).length, 7);
});

Deno.test("blockedUntil() knows an exhausted counter without waiting, and learns of room returned", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const a = ledgerOn(shared.store, clock);
  const b = ledgerOn(shared.store, clock);
  assertEquals(a.blockedUntil(rpm(2), clock.now), 0, "unknown counters are not blocked");
  // b reserves both units and settles to one: it holds the other unspent.
  const reserved = await b.take([rpm(2, 2)]);
  assert(reserved.ok);
  b.settle(reserved.grant, 0, 1);
  assertEquals((await a.take([rpm(2)])).ok, false);
  assertEquals(a.blockedUntil(rpm(2), clock.now), START + 60_000);
  assertEquals(a.blockedUntil(rpm(3), clock.now), 0, "a raised cap may have room");
  await b.sync({ releaseAll: true });
  assertEquals(a.blockedUntil(rpm(2), clock.now), START + 60_000, "the last answer still holds");
  clock.now += 1000;
  const calls = shared.gate.calls;
  assertEquals(a.blockedUntil(rpm(2), clock.now), START + 60_000, "asks in the background");
  await settled();
  assertEquals(shared.gate.calls, calls + 1);
  assertEquals(a.blockedUntil(rpm(2), clock.now), 0);
  assert((await a.take([rpm(2)])).ok);
});

Deno.test("a flood of counters stays bounded: the least recent hand their blocks back", async () => {
  const clock = { now: START + 1000 };
  const shared = gatedStore(clock);
  const ledger = ledgerOn(shared.store, clock, 3);
  const minute = windowAt("minute", clock.now).name;
  const demand = (i: number): Demand => ({ counter: `c${i}`, kind: "minute", cap: 10, want: 5 });
  for (let i = 0; i < 6; i++) {
    const taken = await ledger.take([demand(i)]);
    assert(taken.ok);
    ledger.settle(taken.grant, 0, 1); // 4 of 5 left unspent in the block
  }
  await ledger.sync();
  assertEquals([0, 1, 2].map((i) => ledger.inspect(`c${i}`)), [null, null, null]);
  for (let i = 0; i < 3; i++) assertEquals(await shared.used(`c${i}`, minute), 1, `c${i}`);
  for (let i = 3; i < 6; i++) assertEquals(ledger.inspect(`c${i}`)?.held, 4);
});
