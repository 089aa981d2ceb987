/**
 * The built Node.js server (`node dist/node/server.mjs`, built by the test with the code of
 * `deno task build:node`) in a real `node` process, on Deno KV through `@deno/kv`: the proxy
 * contract suite with real SDK clients over real sockets, the Live API included; the console
 * with its assets; the generated secret; graceful shutdown; and the refusal of a Deno-written
 * KV file, which Node.js's V8 cannot read.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { startFakeUpstream } from "../../tests/support/fake_upstream/mod.ts";
import { runProxyContract, TEST_KEYS, TEST_TOKEN } from "../../tests/support/proxy_contract/mod.ts";
import { runNodeProcess } from "../../tests/support/node_process.ts";
import { createKvStore } from "../../core/store/kv/mod.ts";
import { nodeBuild, startNodeServerProcess } from "./_node_server.ts";

runProxyContract("node server", async (options) => {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-test-" });
  const server = await startNodeServerProcess({
    STORE: "kv",
    KV_PATH: `${dir}/proxy.kv`,
    SECRET_KEY: "test-secret-key-0123456789",
    LOG_LEVEL: "debug",
    UPSTREAM_URL: options.upstreamUrl,
    GEMINI_API_KEYS: options.keys.join(","),
    PROXY_TOKENS: options.tokens.join("\n"),
    ...options.env,
  }).catch(async (error) => {
    await Deno.remove(dir, { recursive: true });
    throw error;
  });
  return {
    url: server.url,
    logs: server.logs,
    async close() {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

const SECRET = "test-secret-key-0123456789";
const ADMIN = "admin-password-for-tests";

Deno.test("node server: the admin console logs in and serves its built island bundles", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-test-" });
  const server = await startNodeServerProcess({
    KV_PATH: `${dir}/proxy.kv`,
    SECRET_KEY: SECRET,
    ADMIN_PASSWORD: ADMIN,
  });
  try {
    const login = await fetch(`${server.url}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ password: ADMIN, next: "/admin/keys" }),
      redirect: "manual",
    });
    assertEquals([login.status, login.headers.get("location")], [303, "/admin/keys"]);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const page = await (await fetch(`${server.url}/admin/keys`, { headers: { cookie } })).text();
    const src = page.match(/src="(\/admin\/assets\/keys_manager-[0-9a-f]{10}\.js)"/)?.[1];
    assert(src, "the keys page loads its island bundle");
    const asset = await fetch(`${server.url}${src}`);
    assertEquals(asset.status, 200);
    assertEquals(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assertStringIncludes(asset.headers.get("content-type") ?? "", "javascript");
    assert((await asset.text()).length > 1000, "the bundle has content");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node server: without SECRET_KEY it generates secret.key beside KV_PATH, owner-only, and reuses it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-test-" });
  const env = { KV_PATH: `${dir}/data/proxy.kv`, GEMINI_API_KEYS: TEST_KEYS[0]! };
  try {
    const first = await startNodeServerProcess(env);
    assertEquals(await first.close(), 0);
    assert(first.logs.some((line) => line.includes("SECRET_KEY is not set: generated one")));
    const info = await Deno.stat(`${dir}/data/secret.key`);
    assertEquals(info.mode! & 0o777, 0o600);
    const secret = await Deno.readTextFile(`${dir}/data/secret.key`);
    assert(secret.trim().length >= 32);

    const second = await startNodeServerProcess(env);
    const health = await (await fetch(`${second.url}/healthz`)).json();
    assertEquals(await second.close(), 0);
    assertEquals([health.status, health.keys.enabled], ["ok", 1], "the stored key decrypts");
    assert(!second.logs.some((line) => line.includes("generated one")), "no second secret");
    assertEquals(await Deno.readTextFile(`${dir}/data/secret.key`), secret);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node server: SIGTERM writes the request log before exiting, and Deno reads the file", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-test-" });
  try {
    const server = await startNodeServerProcess({
      KV_PATH: `${dir}/proxy.kv`,
      SECRET_KEY: SECRET,
      UPSTREAM_URL: fake.url,
      GEMINI_API_KEYS: TEST_KEYS[0]!,
      PROXY_TOKENS: TEST_TOKEN,
    });
    const response = await fetch(`${server.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": TEST_TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "log me" }] }] }),
    });
    assertEquals(response.status, 200);
    await response.body?.cancel();
    const id = response.headers.get("x-request-id")!;
    assertEquals(await server.close(), 0);
    // Deno's V8 reads what Node.js's wrote (not the other way round).
    const store = createKvStore(await Deno.openKv(`${dir}/proxy.kv`));
    try {
      const record = await store.getLog(id);
      assertEquals([record?.status, record?.model], [200, "gemini-2.5-flash"]);
      // The key's counters, packed by Node.js's KV, read back by Deno's.
      const at = record!.time;
      const rows = await store.readAggregates("h", { from: at - 3_600_000, to: at + 3_600_000 });
      const keyRows = rows.filter((r) => r.keyId === record!.keyId);
      assertEquals(keyRows.map((r) => r.fields.requests), [1]);
      const usage = await store.readKeyUsage(at);
      assertEquals(usage.map((u) => [u.keyId, u.minute]), [[record!.keyId, 1]]);
    } finally {
      await store.close();
    }
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node server: a KV file written by Deno is refused at start, naming KV_PATH", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-test-" });
  try {
    const store = createKvStore(await Deno.openKv(`${dir}/deno.kv`));
    await store.putSettings({ maxAttempts: 2 });
    await store.close();
    const { outDir } = await nodeBuild();
    const { code, logs } = await runNodeProcess({
      args: [`${outDir}/server.mjs`],
      env: { PORT: "0", KV_PATH: `${dir}/deno.kv`, SECRET_KEY: SECRET },
    });
    assertEquals(code, 1);
    const output = logs.join("\n");
    assertStringIncludes(output, `KV_PATH: "${dir}/deno.kv" holds values written by Deno`);
    assertStringIncludes(output, "give the Node.js server its own file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node server: a Live upgrade with an unknown token gets 401 in Google's envelope, upstream untouched", async () => {
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-test-" });
  const server = await startNodeServerProcess({
    KV_PATH: `${dir}/proxy.kv`,
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: TEST_KEYS[0]!,
    PROXY_TOKENS: TEST_TOKEN,
  });
  try {
    const { hostname, port } = new URL(server.url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const path =
      "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=gp-unknown";
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\n` +
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    ));
    let answer = "";
    for await (const chunk of conn.readable) answer += new TextDecoder().decode(chunk);
    const [head, body] = answer.split("\r\n\r\n") as [string, string];
    assertStringIncludes(head, "HTTP/1.1 401 Unauthorized");
    assertStringIncludes(head.toLowerCase(), "connection: close");
    const { error } = JSON.parse(body);
    assertEquals([error.status, error.details[0].reason], [
      "UNAUTHENTICATED",
      "PROXY_TOKEN_INVALID",
    ]);
    assertEquals(fake.requests.length, 0);
  } finally {
    await server.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});
