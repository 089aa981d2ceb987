/**
 * Limits across processes on Deno KV: two `deno run main.ts` processes share one KV file and
 * take 100 concurrent requests split between them. Token rpm and rpd, token tpd (with
 * reservations) and key caps hold across both as in one process, and a streamed OpenAI chat
 * whose client did not ask for usage is charged on both.
 * @module
 */
import { createKvStore } from "../core/store/kv/mod.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { startChildProxy } from "./support/harness.ts";
import {
  assertKeyCaps,
  assertOpenAiStreamCharged,
  assertTokenRequestLimits,
  assertTokenTpd,
  KEY_LIMITS,
  KEYS,
  OPEN_TOKEN,
  seedScenario,
} from "./support/limits_scenario.ts";

Deno.test("two processes on one KV file: token rpm, rpd, tpd and key caps hold across both; a usage-less OpenAI stream is charged", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/shared.kv`;
  const seed = createKvStore(await Deno.openKv(kvPath));
  await seedScenario(seed);
  await seed.close();
  const env = {
    UPSTREAM_URL: fake.url,
    KV_PATH: kvPath,
    GEMINI_API_KEYS: KEYS.join(","),
    PROXY_TOKENS: OPEN_TOKEN,
    KEY_LIMITS,
  };
  const a = await startChildProxy(env);
  const b = await startChildProxy(env);
  try {
    const bases: [string, string] = [a.url, b.url];
    await assertTokenRequestLimits(bases, fake);
    await assertTokenTpd(bases, fake);
    await assertKeyCaps(bases, fake);
    const store = createKvStore(await Deno.openKv(kvPath));
    try {
      await assertOpenAiStreamCharged(bases, fake, store);
    } finally {
      await store.close();
    }
  } finally {
    await a.close();
    await b.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});
