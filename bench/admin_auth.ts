/**
 * What the sign-in throttle costs on Deno KV (a local file): at the throttle and end to end.
 *
 * `deno run -A --unstable-kv bench/admin_auth.ts` prints:
 * - the latency of one `check()` with the right password (admit and settle: two compare-and-set
 *   round trips) and of one refused while locked (answered from the process's memory);
 * - sequential `GET /admin/api/keys` with `Authorization: Bearer` (through the throttle) next to
 *   the same call with a session cookie (which never consults it), so the difference is the
 *   throttle's share of a Bearer call. Proxied Gemini requests never consult it.
 * @module
 */
import { createKvStore } from "../core/store/kv/mod.ts";
import { createAuthThrottle } from "../core/admin/auth_throttle.ts";
import { startHarness } from "../tests/support/harness.ts";

const ROUNDS = 1000;
const ADMIN = "bench-admin-password";

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `mean ${mean.toFixed(3)} ms, p50 ${at(0.5).toFixed(3)}, p99 ${at(0.99).toFixed(3)}`;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples;
}

async function throttleLevel(): Promise<void> {
  const dir = await Deno.makeTempDir();
  const store = createKvStore(await Deno.openKv(`${dir}/bench.kv`));
  const throttle = createAuthThrottle({ store, now: Date.now });
  const right = await time(() => throttle.check("admin", "203.0.113.7", () => true));
  for (let i = 0; i < 5; i++) await throttle.check("admin", "198.51.100.1", () => false);
  const locked = await time(() => throttle.check("admin", "198.51.100.1", () => true));
  console.log(`check(), right password:        ${stats(right)}`);
  console.log(`check(), locked (in memory):    ${stats(locked)}`);
  await store.close();
  await Deno.remove(dir, { recursive: true });
}

async function endToEnd(): Promise<void> {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    const login = await fetch(`${h.proxy.url}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ password: ADMIN }),
      redirect: "manual",
    });
    await login.body?.cancel();
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const get = (headers: HeadersInit) => async () => {
      const response = await fetch(`${h.proxy.url}/admin/api/keys`, { headers });
      await response.body?.cancel();
      if (response.status !== 200) throw new Error(`status ${response.status}`);
    };
    const bearer = await time(get({ authorization: `Bearer ${ADMIN}` }));
    const session = await time(get({ cookie }));
    console.log(`GET /admin/api/keys, Bearer:    ${stats(bearer)}`);
    console.log(`GET /admin/api/keys, cookie:    ${stats(session)}`);
  } finally {
    await h.close();
  }
}

await throttleLevel();
await endToEnd();
