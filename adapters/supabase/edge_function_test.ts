import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { startFakeUpstream } from "../../tests/support/fake_upstream/mod.ts";
import {
  createEdgeProxy,
  EDGE_UPSTREAM_TIMEOUT_MS,
  functionMount,
  parseEdgeConfig,
  SUPABASE_IDLE_TIMEOUT_MS,
} from "./edge_function.ts";

const TOKEN = "gp-TEST-edge-token-0001";
const KEY = "AIzaFAKE-TEST-key-000000000000000000001";

Deno.test("functionMount() strips the function path, with or without /functions/v1", () => {
  assertEquals(functionMount("/functions/v1/proxy/v1beta/models"), {
    publicPath: "/functions/v1/proxy",
    rest: "/v1beta/models",
  });
  assertEquals(functionMount("/proxy/v1beta/models"), {
    publicPath: "/functions/v1/proxy",
    rest: "/v1beta/models",
  });
  assertEquals(functionMount("/gemini//ws/google.ai.x")?.rest, "//ws/google.ai.x");
  assertEquals(functionMount("/proxy"), { publicPath: "/functions/v1/proxy", rest: "/" });
  assertEquals(functionMount("/"), null);
});

Deno.test("createEdgeProxy() points upload URLs at the hosted function path when the runtime drops it", async () => {
  const fake = await startFakeUpstream();
  const proxy = createEdgeProxy({
    STORE: "memory",
    SUPABASE_URL: "https://abcd1234.supabase.co",
    SECRET_KEY: "test-secret-key-0123456789",
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: KEY,
    PROXY_TOKENS: TOKEN,
  }, { logSink: () => {} });
  try {
    // As the hosted runtime hands it over: plain http, internal host, no /functions/v1.
    const response = await proxy.fetch(
      new Request("http://edge-runtime.internal/proxy/upload/v1beta/files", {
        method: "POST",
        headers: {
          "x-goog-api-key": TOKEN,
          "x-goog-upload-protocol": "resumable",
          "x-goog-upload-command": "start",
          "x-goog-upload-header-content-length": "5",
          "content-type": "application/json",
        },
        body: JSON.stringify({ file: { displayName: "x" } }),
      }),
    );
    await response.body?.cancel();
    assertEquals(response.status, 200);
    const location = response.headers.get("x-goog-upload-url") ?? "";
    assert(
      location.startsWith("https://abcd1234.supabase.co/functions/v1/proxy/upload/v1beta/files?"),
      location,
    );
    assertStringIncludes(location, "upload_id=");
  } finally {
    await proxy.close();
    await fake.close();
  }
});

Deno.test("createEdgeProxy() answers 503 in Google's envelope when its configuration is incomplete", async () => {
  const proxy = createEdgeProxy({ SUPABASE_URL: "https://abcd1234.supabase.co" }, {
    logSink: () => {},
  });
  const originalError = console.error;
  console.error = () => {};
  try {
    const response = await proxy.fetch(new Request("http://x/proxy/v1beta/models"));
    assertEquals(response.status, 503);
    const body = await response.json();
    assertEquals(body.error.status, "UNAVAILABLE");
    assertStringIncludes(body.error.message, "SUPABASE_SERVICE_ROLE_KEY: is required");
    assertStringIncludes(body.error.message, "SECRET_KEY: is required");
  } finally {
    console.error = originalError;
    await proxy.close();
  }
});

Deno.test("createEdgeProxy() with STORE=memory refuses admin writes with 409: each worker would keep its own", async () => {
  const admin = "edge-admin-password";
  const proxy = createEdgeProxy({
    STORE: "memory",
    SECRET_KEY: "test-secret-key-0123456789",
    ADMIN_PASSWORD: admin,
    PROXY_TOKENS: TOKEN,
  }, { logSink: () => {} });
  const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
  try {
    const created = await proxy.fetch(
      new Request("http://x/functions/v1/proxy/admin/api/tokens", {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "app" }),
      }),
    );
    assertEquals(created.status, 409);
    const { error } = await created.json();
    assertEquals(error.details[0].reason, "STORE_NOT_SHARED");
    assertStringIncludes(error.message, "unset STORE to use the project's Postgres store");
    const listed = await proxy.fetch(
      new Request("http://x/functions/v1/proxy/admin/api/tokens", { headers }),
    );
    assertEquals(listed.status, 200);
    assertEquals((await listed.json()).tokens.length, 1);
  } finally {
    await proxy.close();
  }
});

Deno.test("parseEdgeConfig() waits for upstream less than the Supabase gateway's idle timeout", () => {
  const env = { STORE: "memory", SECRET_KEY: "test-secret-key-0123456789" };
  const config = parseEdgeConfig(env);
  assertEquals(config.upstreamTimeoutMs, EDGE_UPSTREAM_TIMEOUT_MS);
  assertEquals(EDGE_UPSTREAM_TIMEOUT_MS, 140_000);
  assert(config.upstreamTimeoutMs < SUPABASE_IDLE_TIMEOUT_MS, "below the gateway's 150 s");
  assert(!config.forced.includes("UPSTREAM_TIMEOUT_MS"), "a default, not a forced setting");
  assertEquals(parseEdgeConfig({ ...env, UPSTREAM_TIMEOUT_MS: "90000" }).upstreamTimeoutMs, 90_000);
  assertEquals(parseEdgeConfig({ ...env, SB_REGION: "eu-central-1" }).region, "eu-central-1");
  assertEquals(parseEdgeConfig({ ...env, SB_REGION: "eu-central-1", REGION: "eu" }).region, "eu");
});

Deno.test("an Edge Function whose upstream stalls answers 504 DEADLINE_EXCEEDED naming the limit, once for all keys", async () => {
  let stalled = 0;
  const release: Array<() => void> = [];
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    stalled++;
    return new Promise<Response>((resolve) => release.push(() => resolve(new Response("{}"))));
  });
  const proxy = createEdgeProxy({
    STORE: "memory",
    SECRET_KEY: "test-secret-key-0123456789",
    UPSTREAM_URL: `http://127.0.0.1:${upstream.addr.port}`,
    UPSTREAM_TIMEOUT_MS: "1000",
    GEMINI_API_KEYS: `${KEY},${KEY.replace(/1$/, "2")},${KEY.replace(/1$/, "3")}`,
    MAX_ATTEMPTS: "3",
    RETRY_BACKOFF_MS: "0",
    PROXY_TOKENS: TOKEN,
  }, { logSink: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, proxy.fetch);
  try {
    const response = await fetch(
      `http://127.0.0.1:${server.addr.port}/functions/v1/proxy/v1beta/models/gemini-2.5-pro:generateContent`,
      {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "think for a long time" }] }] }),
      },
    );
    assertEquals(response.status, 504);
    const { error } = await response.json();
    assertEquals(error.code, 504);
    assertEquals(error.status, "DEADLINE_EXCEEDED");
    assertStringIncludes(error.message, "within 1 s (UPSTREAM_TIMEOUT_MS");
    assertEquals(error.details[0].reason, "UPSTREAM_TIMEOUT");
    assertEquals(stalled, 1, "the wait is one budget for the request, not one per key");
  } finally {
    for (const resolve of release) resolve();
    await proxy.close();
    await server.shutdown();
    await upstream.shutdown();
  }
});

Deno.test("createEdgeProxy() warns when UPSTREAM_TIMEOUT_MS reaches the gateway's idle timeout", async () => {
  const lines: string[] = [];
  const proxy = createEdgeProxy({
    STORE: "memory",
    SECRET_KEY: "test-secret-key-0123456789",
    UPSTREAM_TIMEOUT_MS: String(SUPABASE_IDLE_TIMEOUT_MS),
  }, { logSink: (_level, line) => lines.push(line) });
  try {
    const health = await proxy.fetch(new Request("http://x/proxy/healthz"));
    assertEquals(health.status, 200);
    await health.body?.cancel();
    assert(lines.some((l) => l.includes("UPSTREAM_TIMEOUT_MS reaches")), lines.join("\n"));
  } finally {
    await proxy.close();
  }
});
