/**
 * Proxy tokens across two `deno run main.ts` processes sharing one KV file: an rpm limit exact
 * under 100 concurrent requests split between them, and a change made through one process
 * (disable, enable, rotate, delete) taking effect on both within the documented second. The
 * processes run on the wall clock: the tests wait on it (see `support/wall_clock.ts`) instead
 * of polling until a change shows.
 */
import { createKvStore } from "../core/store/kv/mod.ts";
import { sha256Hex } from "../core/secrets/mod.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { type ChildProxy, fakeKeys, startChildProxy, TOKEN } from "./support/harness.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import {
  ADMIN,
  admin,
  assertRateLimited,
  call,
  createToken,
  isGenerate,
  statusOf,
} from "./support/token_api.ts";
import { CHANGE_BOUND_MS, inOneMinute, sleepUntil } from "./support/wall_clock.ts";

Deno.test("100 concurrent requests over two proxy processes on one KV file: exactly 10 pass", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/shared.kv`;
  const secret = "gp-TEST-shared-limited-token-0001";
  const seed = createKvStore(await Deno.openKv(kvPath));
  await seed.addToken({
    id: "t_shared",
    name: "shared",
    hash: await sha256Hex(secret),
    masked: "gp-T...0001",
    enabled: true,
    source: "admin",
    createdAt: Date.now(),
    limits: { rpm: 10 },
  });
  await seed.close();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: kvPath,
    GEMINI_API_KEYS: fakeKeys(3).join(","),
    PROXY_TOKENS: TOKEN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  try {
    // Children count rpm on the real clock: the whole burst falls in one clock minute.
    const responses = await inOneMinute(() =>
      Promise.all(Array.from({ length: 100 }, (_, i) => call(i % 2 ? a.url : b.url, secret)))
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status !== 200);
    await Promise.all(ok.map((r) => r.body?.cancel()));
    assertEquals([ok.length, refused.length], [10, 90]);
    assertEquals(fake.requests.filter((r) => isGenerate(r.path)).length, 10);
    await assertRateLimited(refused);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * What each process answers `secret` (one request each, no retry), once the documented bound has
 * passed since a change was committed: the change was committed before its admin call answered,
 * so a second after that answer arrived every process must see it, however busy the machine.
 */
async function afterBound(
  processes: ChildProxy[],
  secret: string,
  expected: (status: number) => boolean,
): Promise<number[]> {
  await sleepUntil(Date.now() + CHANGE_BOUND_MS);
  const statuses: number[] = [];
  for (const p of processes) statuses.push(await statusOf(await call(p.url, secret)));
  assert(statuses.every(expected), `both processes a second after the change: ${statuses}`);
  return statuses;
}

Deno.test("a revoked token is refused by both of two processes within one second", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: `${dir}/shared.kv`,
    GEMINI_API_KEYS: fakeKeys(2).join(","),
    ADMIN_PASSWORD: ADMIN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  const both = [a, b];
  try {
    const { id, secret } = await createToken(a.url, { name: "revocable" });
    await afterBound(both, secret, (s) => s === 200);

    assertEquals(await statusOf(await admin(a.url, `/${id}`, "PATCH", { enabled: false })), 200);
    assertEquals(await afterBound(both, secret, (s) => s === 403), [403, 403], "disabled");

    assertEquals(await statusOf(await admin(a.url, `/${id}`, "PATCH", { enabled: true })), 200);
    await afterBound(both, secret, (s) => s === 200);

    const rotation = await admin(a.url, `/${id}/rotate`, "POST");
    assertEquals(rotation.status, 200);
    const rotated = await rotation.json();
    await afterBound(both, secret, (s) => s === 401 || s === 403);
    await afterBound(both, rotated.secret, (s) => s === 200);

    assertEquals(await statusOf(await admin(b.url, `/${id}`, "DELETE")), 200);
    await afterBound(both, rotated.secret, (s) => s === 401);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});
