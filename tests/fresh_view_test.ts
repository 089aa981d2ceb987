/**
 * Changes made through one instance reach another sharing its store within a second, idle or
 * not: two Deno servers in this process on one KV file and one injected clock. The second has no
 * background refresh (as an idle Edge Function worker or Worker isolate), so only requests keep it
 * fresh; the clock moves 15 s of idleness without waiting.
 * @module
 */
import { type RunningServer, startServer } from "../adapters/deno/server.ts";
import { assertEquals } from "./support/assert.ts";
import { ADMIN, createToken, revokeToken, statusFor } from "./support/freshness_helpers.ts";
import { fakeKeys, type Harness, SECRET, startHarness } from "./support/harness.ts";

const HOUR = 3_600_000;

async function withTwoInstances(fn: (h: Harness, quiet: RunningServer) => Promise<void>) {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  const quiet = await startServer({
    PORT: "0",
    KV_PATH: h.kvPath,
    SECRET_KEY: SECRET,
    UPSTREAM_URL: h.fake.url,
    RETRY_BACKOFF_MS: "0",
  }, { now: () => h.clock.now, syncIntervalMs: HOUR, logSink: () => {}, assets: null });
  try {
    await fn(h, quiet);
  } finally {
    await quiet.close();
    await h.close();
  }
}

Deno.test("an instance idle for 15 s accepts a token created elsewhere and refuses one revoked elsewhere on its first request", async () => {
  await withTwoInstances(async (h, quiet) => {
    const first = await createToken(h.proxy.url, "first");
    h.clock.now += 1000;
    assertEquals(await statusFor(quiet.url, first.secret), 200, "created 1 s ago: accepted");

    h.clock.now += 15_000;
    const second = await createToken(h.proxy.url, "second");
    await revokeToken(h.proxy.url, first.id);
    assertEquals(await statusFor(quiet.url, second.secret), 200, "created elsewhere: accepted");
    const revoked = [];
    for (let i = 0; i < 3; i++) revoked.push(await statusFor(quiet.url, first.secret));
    assertEquals(revoked, [401, 401, 401], "revoked elsewhere: refused every time");
  });
});

Deno.test("a busy instance follows a revocation made elsewhere once its view is a second old", async () => {
  await withTwoInstances(async (h, quiet) => {
    const token = await createToken(h.proxy.url, "busy");
    h.clock.now += 1000;
    assertEquals(await statusFor(quiet.url, token.secret), 200);
    await revokeToken(h.proxy.url, token.id);
    h.clock.now += 400;
    // A view younger than a second is used as it is: no store round trip for the request.
    assertEquals(await statusFor(quiet.url, token.secret), 200, "within the bound");
    h.clock.now += 600;
    assertEquals(await statusFor(quiet.url, token.secret), 401, "at the bound: refused");
  });
});

Deno.test("keys disabled through one instance are not used by another from its first request after idling", async () => {
  await withTwoInstances(async (h, quiet) => {
    const token = await createToken(h.proxy.url, "keys");
    const listed = await (await fetch(`${h.proxy.url}/admin/api/keys`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })).json();
    const ids = (listed.keys as { id: string }[]).map((k) => k.id);
    assertEquals(ids.length, 3);
    for (const id of ids.slice(0, 2)) {
      const patched = await fetch(`${h.proxy.url}/admin/api/keys/${id}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ enabled: false }),
      });
      await patched.body?.cancel();
      assertEquals(patched.status, 200);
    }
    h.clock.now += 16_000;
    const seen = h.fake.requests.length;
    for (let i = 0; i < 3; i++) assertEquals(await statusFor(quiet.url, token.secret), 200);
    const used = h.fake.requests.slice(seen).map((r) => r.key);
    assertEquals(used, Array(3).fill(fakeKeys(3)[2]), "only the key left enabled");
  });
});
