/**
 * The built Vercel deployment (`.vercel/output/`, built by the test with the code of
 * `deno task build:vercel`) in Vercel's Edge Runtime emulator (npm `edge-runtime`) in a `node`
 * process: the proxy contract suite with real SDK clients over real sockets, failover, the
 * refusal of admin writes on the per-isolate store, the console's pointer and the build's files.
 * @module
 */
import { GoogleGenAI } from "@google/genai";
import { runProxyContract, TEST_KEYS, TEST_TOKEN } from "../../tests/support/proxy_contract/mod.ts";
import {
  assert,
  assertEquals,
  assertNotIncludes,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { startFakeUpstream } from "../../tests/support/fake_upstream/mod.ts";
import { startEdgeFunction, vercelBuild } from "./_edge_runtime.ts";

const SECRET = "test-secret-key-0123456789";
const ADMIN = "admin-password-for-tests";

runProxyContract("vercel edge function", async (options) => {
  const fn = await startEdgeFunction({
    SECRET_KEY: SECRET,
    LOG_LEVEL: "debug",
    UPSTREAM_URL: options.upstreamUrl,
    GEMINI_API_KEYS: options.keys.join(","),
    PROXY_TOKENS: options.tokens.join("\n"),
    ...options.env,
  });
  return { url: fn.url, logs: fn.logs, close: async () => void await fn.close() };
}, {
  skip: {
    live: "Vercel Edge Functions cannot accept WebSocket upgrades; the Live API answers 501 here",
    hugeUpload: "Vercel caps a function's request body at 4.5 MB",
  },
});

Deno.test("vercel edge function: the build is Build Output API v3 with one edge function for every path", async () => {
  const { outDir, functionDir, gzipBytes } = await vercelBuild();
  const config = JSON.parse(await Deno.readTextFile(`${outDir}/config.json`));
  assertEquals(config, { version: 3, routes: [{ src: "/(.*)", dest: "/proxy" }] });
  assertEquals(functionDir, `${outDir}/functions/proxy.func`);
  const vc = JSON.parse(await Deno.readTextFile(`${functionDir}/.vc-config.json`));
  assertEquals([vc.runtime, vc.entrypoint], ["edge", "index.js"]);
  for (const name of ["SECRET_KEY", "GEMINI_API_KEYS", "PROXY_TOKENS", "STORE", "VERCEL_REGION"]) {
    assert(vc.envVarsInUse.includes(name), `envVarsInUse lists ${name}`);
  }
  // Vercel's smallest plan allows 1 MB gzipped.
  assert(gzipBytes < 1024 * 1024, `bundle is ${gzipBytes} bytes gzipped`);
});

Deno.test("vercel edge function: a key answering 429 fails over to the next key and the client gets 200", async () => {
  const fake = await startFakeUpstream();
  const [k1, k2] = TEST_KEYS as [string, string];
  fake.failFor(k1, { kind: "quota", scope: "minute", retryDelaySeconds: 60 });
  const fn = await startEdgeFunction({
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: `${k1},${k2}`,
    PROXY_TOKENS: TEST_TOKEN,
    RETRY_BACKOFF_MS: "0",
  });
  try {
    const ai = new GoogleGenAI({ apiKey: TEST_TOKEN, httpOptions: { baseUrl: fn.url } });
    for (let i = 0; i < 2; i++) {
      const reply = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
      assert(reply.text, "the client got an answer");
    }
    const byKey = fake.requests.map((r) => [r.key, r.responseStatus]);
    assertEquals(byKey.filter(([key]) => key === k1), [[k1, 429]], "k1 tried once, then rested");
    assertEquals(byKey.filter(([key]) => key === k2), [[k2, 200], [k2, 200]]);
  } finally {
    await fn.close();
    await fake.close();
  }
});

Deno.test("vercel edge function: the memory store refuses admin writes, /admin points to the console, VERCEL_REGION is reported, Live answers 501", async () => {
  const fake = await startFakeUpstream();
  const fn = await startEdgeFunction({
    SECRET_KEY: SECRET,
    ADMIN_PASSWORD: ADMIN,
    CONSOLE_URL: "https://console.example/admin",
    VERCEL_REGION: "hkg1",
    BLOCKED_COLOS: "HKG1",
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: TEST_KEYS[0]!,
    PROXY_TOKENS: TEST_TOKEN,
  });
  const auth = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  try {
    const write = await fetch(`${fn.url}/admin/api/tokens`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "phone" }),
    });
    assertEquals(write.status, 409);
    assertEquals((await write.json()).error.details[0].reason, "STORE_NOT_SHARED");
    const read = await fetch(`${fn.url}/admin/api/keys`, { headers: auth });
    assertEquals([read.status, (await read.json()).keys.length], [200, 1]);

    const page = await fetch(`${fn.url}/admin`, { headers: { accept: "text/html" } });
    assertEquals(page.status, 404);
    assertStringIncludes(await page.text(), '<a href="https://console.example/admin">');

    const health = await (await fetch(`${fn.url}/healthz`)).json();
    assertEquals([health.region, health.regionBlocked], ["hkg1", true]);

    const live = await fetch(
      `${fn.url}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${TEST_TOKEN}`,
      { headers: { upgrade: "websocket" } },
    );
    assertEquals(live.status, 501);
    assertEquals((await live.json()).error.status, "UNIMPLEMENTED");
    assertEquals(fake.requests.length, 0);
  } finally {
    await fn.close();
    await fake.close();
  }
});

Deno.test("vercel edge function: a missing SECRET_KEY answers 500 naming it, secrets never shown", async () => {
  const fn = await startEdgeFunction({ GEMINI_API_KEYS: TEST_KEYS[0]!, STORE: "kv" });
  try {
    const response = await fetch(`${fn.url}/healthz`);
    assertEquals(response.status, 500);
    const text = await response.text();
    assertStringIncludes(text, "SECRET_KEY: is required on Vercel");
    assertStringIncludes(text, 'STORE: \\"kv\\" (Deno KV) is not available on Vercel');
    assertNotIncludes(text, TEST_KEYS[0]!);
  } finally {
    await fn.close();
  }
});
