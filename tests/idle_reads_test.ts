/**
 * An idle instance reads nothing from the store, and still sees a change within the bound: a
 * proxy on a Deno KV handle that counts every read, beside an admin instance on the same KV file
 * and the same injected clock. The host's background timer is played by hand (`gateway.sync()`
 * every 250 ms of the clock, as the Deno entry's timer does), so a simulated idle minute costs no
 * real minute.
 * @module
 */
import { createApp, type GatewayApp } from "../core/app.ts";
import { parseConfig } from "../core/config/mod.ts";
import { createKvStore } from "../core/store/kv/mod.ts";
import { assertEquals } from "./support/assert.ts";
import { ADMIN, createToken, revokeToken, statusFor } from "./support/freshness_helpers.ts";
import { type Harness, SECRET, startHarness } from "./support/harness.ts";
import { countReads, type ReadCounts, roundTrips, zeroReads } from "./support/read_counter.ts";

/** The Deno entry's background timer, ms. */
const TICK_MS = 250;

interface Counted {
  url: string;
  gateway: GatewayApp;
  counts: ReadCounts;
  close(): Promise<void>;
}

/** A proxy in this process whose KV handle counts reads, on the harness's KV file and clock. */
async function startCounted(h: Harness): Promise<Counted> {
  const counts = zeroReads();
  const kv = countReads(await Deno.openKv(h.kvPath), counts);
  const now = () => h.clock.now;
  const config = { ...parseConfig({ UPSTREAM_URL: h.fake.url }), secretKey: SECRET };
  const gateway = await createApp({ config, store: createKvStore(kv, { now }), now, logSink() {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gateway.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    gateway,
    counts,
    async close() {
      await server.shutdown();
      await gateway.sync(true);
      await gateway.poolSync.settled();
      kv.close();
    },
  };
}

/** Plays the host's timer over `ms` of the clock; returns the store round trips it cost. */
async function idle(h: Harness, quiet: Counted, ms: number): Promise<number> {
  const before = roundTrips(quiet.counts);
  for (let t = 0; t < ms; t += TICK_MS) {
    h.clock.now += TICK_MS;
    await quiet.gateway.sync();
  }
  return roundTrips(quiet.counts) - before;
}

Deno.test("an idle proxy makes no store reads over a minute and refuses a token revoked elsewhere within the bound", async () => {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  const quiet = await startCounted(h);
  try {
    const token = await createToken(h.proxy.url, "idle-reads");
    h.clock.now += 1000;
    assertEquals(await statusFor(quiet.url, token.secret), 200, "created 1 s ago: accepted");
    // The request's counters and log record are written on the next ticks (writes, not reads).
    await idle(h, quiet, 2000);

    assertEquals(await idle(h, quiet, 60_000), 0, "no store read in an idle minute");

    await revokeToken(h.proxy.url, token.id);
    assertEquals(await idle(h, quiet, 1000), 0, "a change alone costs an idle instance nothing");
    const before = roundTrips(quiet.counts);
    assertEquals(await statusFor(quiet.url, token.secret), 401, "revoked 1 s ago: refused");
    assertEquals(roundTrips(quiet.counts) > before, true, "the request's probe read the store");
  } finally {
    await quiet.close();
    await h.close();
  }
});

Deno.test("a serving proxy follows changes made elsewhere on its timer, a probe per tick at most", async () => {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  const quiet = await startCounted(h);
  try {
    const token = await createToken(h.proxy.url, "busy-reads");
    h.clock.now += 1000;
    assertEquals(await statusFor(quiet.url, token.secret), 200);
    await revokeToken(h.proxy.url, token.id);
    // The request above asked for a fresh view: the next tick probes and finds the revocation.
    h.clock.now += TICK_MS;
    await quiet.gateway.sync();
    assertEquals(quiet.gateway.registry.tokens.some((t) => t.id === token.id), false);
    assertEquals(await statusFor(quiet.url, token.secret), 401, "refused before the bound");
  } finally {
    await quiet.close();
    await h.close();
  }
});
