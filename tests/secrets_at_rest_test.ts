/**
 * Secrets at rest: raw storage never holds a Gemini key or a token in clear, `SECRET_KEY` can be
 * rotated, and a local secret is generated once outside the store.
 */
import { startServer } from "../adapters/deno/server.ts";
import { resolveSecretKey } from "../adapters/deno/secret_key.ts";
import { parseConfig } from "../core/config/config.ts";
import {
  assert,
  assertEquals,
  assertNotIncludes,
  assertRejects,
  assertStringIncludes,
} from "./support/assert.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { fakeKeys, generate, TOKEN } from "./support/harness.ts";

async function rawEntries(path: string): Promise<string> {
  const kv = await Deno.openKv(path);
  let all = "";
  for await (const entry of kv.list({ prefix: [] })) {
    all += JSON.stringify(entry.key) + JSON.stringify(entry.value, (_k, v) =>
      typeof v === "bigint" ? String(v) : v) +
      "\n";
  }
  kv.close();
  return all;
}

Deno.test("raw Deno KV entries never hold a Gemini key or a proxy token in clear", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const keys = fakeKeys(3);
  const server = await startServer({
    PORT: "0",
    KV_PATH: `${dir}/p.kv`,
    SECRET_KEY: "test-secret-key-0123456789",
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: keys.join(","),
    PROXY_TOKENS: TOKEN,
    LOG_BODIES: "all",
  }, { logSink: () => {} });
  try {
    fake.failFor(keys[0]!, { kind: "invalid_key" });
    for (let i = 0; i < 6; i++) {
      await (await generate(
        server.url,
        "gemini-2.5-flash",
        `key ${keys[1]} and ${TOKEN} in a prompt`,
      )).text();
    }
  } finally {
    await server.close();
    await fake.close();
  }
  const raw = await rawEntries(`${dir}/p.kv`);
  // The request logs (packed pages of records, bodies included) are in the dump that is searched.
  assertStringIncludes(raw, '"logp"');
  assertStringIncludes(raw, "in a prompt");
  for (const key of keys) assertNotIncludes(raw, key);
  assertNotIncludes(raw, TOKEN);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("rotating SECRET_KEY with SECRET_KEY_PREVIOUS re-seals stored keys", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir();
  const env = {
    PORT: "0",
    KV_PATH: `${dir}/p.kv`,
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: fakeKeys(2).join(","),
    PROXY_TOKENS: TOKEN,
  };
  try {
    const first = await startServer({ ...env, SECRET_KEY: "old-secret-key-0123456789" }, {
      logSink: () => {},
    });
    await first.close();
    const before = await rawEntries(`${dir}/p.kv`);
    const rotated = await startServer({
      ...env,
      GEMINI_API_KEYS: "",
      SECRET_KEY: "new-secret-key-0123456789",
      SECRET_KEY_PREVIOUS: "old-secret-key-0123456789",
    }, { logSink: () => {} });
    assertEquals(rotated.gateway.registry.enabledKeys.length, 2);
    await rotated.close();
    const after = await rawEntries(`${dir}/p.kv`);
    assert(before !== after, "sealed values changed");
    const renewed = await startServer({
      ...env,
      GEMINI_API_KEYS: "",
      SECRET_KEY: "new-secret-key-0123456789",
    }, {
      logSink: () => {},
    });
    try {
      assertEquals(renewed.gateway.registry.enabledKeys.map((k) => k.value), fakeKeys(2));
      const response = await generate(renewed.url);
      assertEquals(response.status, 200);
      await response.body?.cancel();
      assertEquals(fake.requests.at(-1)?.key, fakeKeys(2)[0]);
    } finally {
      await renewed.close();
    }
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a local run without SECRET_KEY generates one beside the KV file, once, with a warning", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const env = { PORT: "0", KV_PATH: `${dir}/data/p.kv`, GEMINI_API_KEYS: fakeKeys(1)[0]! };
  const first = await startServer(env, { logSink: (_l, line) => lines.push(line) });
  await first.close();
  const file = `${dir}/data/secret.key`;
  const secret = (await Deno.readTextFile(file)).trim();
  assert(secret.length >= 32);
  assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
  assert(lines.some((l) => l.includes("SECRET_KEY is not set")), "warned");
  assertNotIncludes(await rawEntries(`${dir}/data/p.kv`), secret);
  const second = await startServer(env, { logSink: () => {} });
  assertEquals(
    second.gateway.registry.enabledKeys.length,
    1,
    "the same secret opens the stored key",
  );
  await second.close();
  assertEquals((await Deno.readTextFile(file)).trim(), secret);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Deno Deploy without SECRET_KEY stops start-up naming the variable", async () => {
  const env = { DENO_DEPLOYMENT_ID: "abc" };
  const error = await assertRejects(() => resolveSecretKey(parseConfig(env), env));
  assertStringIncludes(error.message, "SECRET_KEY");
});
