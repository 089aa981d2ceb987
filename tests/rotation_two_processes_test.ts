/**
 * Rotation across two `deno run main.ts` processes sharing one KV file: round robin stays even,
 * and one process's verdicts about keys (a cooldown, a disabled key) steer the other within the
 * documented second. The processes run on the wall clock (see `support/wall_clock.ts`).
 */
import { createKvStore } from "../core/store/kv/mod.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { countByKey, fakeKeys, generate, startChildProxy, TOKEN } from "./support/harness.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { CHANGE_BOUND_MS, pollUntil, sleepUntil } from "./support/wall_clock.ts";

const isGenerate = (path: string) => path.endsWith(":generateContent");

async function expectOk(response: Response): Promise<void> {
  const text = await response.text();
  assertEquals(response.status, 200, text);
}

Deno.test("round_robin stays even with two proxy processes on one KV file", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: `${dir}/shared.kv`,
    GEMINI_API_KEYS: fakeKeys(3).join(","),
    PROXY_TOKENS: TOKEN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  try {
    for (let i = 0; i < 30; i++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => generate(j % 2 ? a.url : b.url).then(expectOk)),
      );
    }
    const counts = [...countByKey(fake, isGenerate).values()];
    assertEquals(counts.length, 3);
    for (const n of counts) assert(Math.abs(n - 100) <= 5, `uneven split: ${counts}`);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes see each other's cooldowns and disabled keys within a second", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const keys = fakeKeys(3);
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: `${dir}/shared.kv`,
    GEMINI_API_KEYS: keys.join(","),
    PROXY_TOKENS: TOKEN,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  try {
    fake.failFor(keys[0]!, { kind: "invalid_key" });
    fake.failFor(keys[1]!, { kind: "quota", scope: "minute", retryDelaySeconds: 120 });
    for (let i = 0; i < 4; i++) await expectOk(await generate(a.url));
    // Process A writes its verdicts to the store beside the requests: once both are stored,
    // process B must act on them within the documented bound.
    const store = createKvStore(await Deno.openKv(env.KV_PATH));
    try {
      await pollUntil(async () => ({
        disabled: (await store.listKeys()).filter((k) => !k.enabled).length,
        cooling: (await store.listCooldowns()).length,
      }), {
        until: (s) => s.disabled === 1 && s.cooling >= 1,
        what: "process A's disabled key and cooldown in the store",
      });
    } finally {
      await store.close();
    }
    await sleepUntil(Date.now() + CHANGE_BOUND_MS);
    fake.reset();
    for (let i = 0; i < 9; i++) await expectOk(await generate(b.url));
    assertEquals([...countByKey(fake).keys()], [keys[2]], "process B used only the healthy key");
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});
