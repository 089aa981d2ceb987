/**
 * The bundled Worker (built by the test with `deno task build:worker`'s code) in real workerd:
 * the proxy contract suite with real SDK clients, configuration errors, region awareness and
 * regional failover against a Deno deployment.
 * @module
 */
import { GoogleGenAI } from "@google/genai";
import { type RunningServer, startServer } from "../deno/server.ts";
import { runProxyContract } from "../../tests/support/proxy_contract/mod.ts";
import {
  assert,
  assertEquals,
  assertNotIncludes,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { startFakeUpstream } from "../../tests/support/fake_upstream/mod.ts";
import { fakeKeys, generate, SECRET, TOKEN } from "../../tests/support/harness.ts";
import { ADMIN, adminLogs, RELAY, startRecordingHop } from "../../tests/support/relay_helpers.ts";
import { startWorker, workerBundle } from "./_workerd.ts";
import { gzipSize } from "../_shared/bundle.ts";

runProxyContract("cloudflare worker", async (options) => {
  const worker = await startWorker({
    bindings: {
      STORE: "memory",
      SECRET_KEY: "test-secret-key-0123456789",
      LOG_LEVEL: "debug",
      UPSTREAM_URL: options.upstreamUrl,
      GEMINI_API_KEYS: options.keys.join(","),
      PROXY_TOKENS: options.tokens.join("\n"),
      ...options.env,
    },
    colo: options.env?.DENO_REGION ?? "SJC",
  });
  return worker;
});

const [KEY_W, KEY_D] = fakeKeys(2) as [string, string];

/** A Deno deployment that accepts relays. */
function denoDeployment(upstreamUrl: string, env: Record<string, string> = {}) {
  return startServer({
    PORT: "0",
    STORE: "memory",
    SECRET_KEY: SECRET,
    UPSTREAM_URL: upstreamUrl,
    GEMINI_API_KEYS: KEY_D,
    PROXY_TOKENS: TOKEN,
    ADMIN_PASSWORD: ADMIN,
    RELAY_SECRET: RELAY,
    DENO_REGION: "us-east4",
    LOG_LEVEL: "warn",
    ...env,
  }, { logSink: () => {}, syncIntervalMs: 20 });
}

function workerBindings(upstreamUrl: string, env: Record<string, string> = {}) {
  return {
    SECRET_KEY: SECRET,
    UPSTREAM_URL: upstreamUrl,
    GEMINI_API_KEYS: KEY_W,
    PROXY_TOKENS: TOKEN,
    ADMIN_PASSWORD: ADMIN,
    RELAY_SECRET: RELAY,
    RETRY_BACKOFF_MS: "0",
    ...env,
  };
}

Deno.test("cloudflare worker: the bundle is one module under 150 KB gzipped", async () => {
  const bytes = await Deno.readFile(await workerBundle());
  const gzipped = await gzipSize(bytes);
  assert(gzipped < 150 * 1024, `bundle is ${gzipped} bytes gzipped`);
});

Deno.test("cloudflare worker: a missing SECRET_KEY answers 500 naming it, a bad secret is never echoed", async () => {
  const worker = await startWorker({
    bindings: { GEMINI_API_KEYS: KEY_W, PROXY_TOKENS: TOKEN, RELAY_SECRET: "short-relay" },
  });
  try {
    const response = await fetch(`${worker.url}/v1beta/models`, {
      headers: { "x-goog-api-key": TOKEN },
    });
    assertEquals(response.status, 500);
    const { error } = await response.json();
    assertEquals(error.status, "INTERNAL");
    assertStringIncludes(error.message, "RELAY_SECRET");
    assertNotIncludes(error.message, "short-relay");
    const missing = await startWorker({ bindings: { GEMINI_API_KEYS: KEY_W, STORE: "kv" } });
    try {
      const body = await (await fetch(`${missing.url}/healthz`)).json();
      assertStringIncludes(body.error.message, "SECRET_KEY: is required on Cloudflare Workers");
      assertStringIncludes(body.error.message, "STORE");
      assertNotIncludes(JSON.stringify(body), KEY_W);
    } finally {
      await missing.close();
    }
  } finally {
    await worker.close();
  }
});

Deno.test("cloudflare worker: /admin says where the console runs (CONSOLE_URL), in HTML or in Google's envelope", async () => {
  const worker = await startWorker({
    bindings: {
      ...workerBindings("http://127.0.0.1:9"),
      CONSOLE_URL: "https://console.example/admin",
    },
  });
  try {
    const page = await fetch(`${worker.url}/admin/keys`, { headers: { accept: "text/html" } });
    assertEquals(page.status, 404);
    assertStringIncludes(await page.text(), '<a href="https://console.example/admin">');
    const json = await fetch(`${worker.url}/admin`);
    const { error } = await json.json();
    assertEquals([json.status, error.details[0].reason], [404, "CONSOLE_ELSEWHERE"]);
    assertEquals(error.details[1].links[0].url, "https://console.example/admin");
  } finally {
    await worker.close();
  }
});

Deno.test("cloudflare worker: the serving colo is in logs, /healthz and metrics", async () => {
  const fake = await startFakeUpstream();
  const worker = await startWorker({ bindings: workerBindings(fake.url), colo: "CDG" });
  try {
    const response = await generate(worker.url);
    assertEquals(response.status, 200);
    await response.body?.cancel();
    const health = await (await fetch(`${worker.url}/healthz`)).json();
    assertEquals([health.region, health.regionBlocked], ["CDG", undefined]);
    const [record] = await adminLogs(worker.url);
    assertEquals([record?.region, record?.status, record?.relayedTo], ["CDG", 200, undefined]);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    assertStringIncludes(metrics, 'gemini_proxy_region_requests_total{region="CDG"} 1');
    assertStringIncludes(metrics, 'gemini_proxy_info{region="CDG"} 1');
  } finally {
    await worker.close();
    await fake.close();
  }
});

Deno.test("cloudflare worker with STORE=memory refuses admin writes with 409 naming the store to configure; reads work", async () => {
  const fake = await startFakeUpstream();
  const worker = await startWorker({ bindings: workerBindings(fake.url) });
  const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  try {
    const created = await fetch(`${worker.url}/admin/api/tokens`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "lives in one isolate" }),
    });
    assertEquals(created.status, 409);
    const { error } = await created.json();
    assertEquals([error.code, error.status], [409, "FAILED_PRECONDITION"]);
    assertEquals(error.details[0].reason, "STORE_NOT_SHARED");
    assertStringIncludes(error.message, "STORE=supabase with SUPABASE_URL");
    for (const [method, path] of [["DELETE", "/tokens/t_x"], ["PATCH", "/settings"]]) {
      const refused = await fetch(`${worker.url}/admin/api${path}`, {
        method,
        headers: admin,
        body: "{}",
      });
      await refused.body?.cancel();
      assertEquals(refused.status, 409, `${method} ${path}`);
    }
    const listed = await fetch(`${worker.url}/admin/api/tokens`, { headers: admin });
    assertEquals(listed.status, 200);
    assertEquals((await listed.json()).tokens.length, 1, "only the token from the bindings");
    const used = await generate(worker.url);
    await used.body?.cancel();
    assertEquals(used.status, 200, "the bindings' token still works");
  } finally {
    await worker.close();
    await fake.close();
  }
});

Deno.test("cloudflare worker: the sign-in throttle counts each cf-connecting-ip apart, as the logs do", async () => {
  const worker = await startWorker({ bindings: workerBindings("http://127.0.0.1:9") });
  const keys = (ip: string, secret: string) =>
    fetch(`${worker.url}/admin/api/keys`, {
      headers: { authorization: `Bearer ${secret}`, "cf-connecting-ip": ip },
    }).then(async (r) => (await r.body?.cancel(), r.status));
  try {
    for (let i = 0; i < 5; i++) assertEquals(await keys("198.51.100.1", `guess-${i}`), 401);
    assertEquals(await keys("198.51.100.1", ADMIN), 429, "that client is locked");
    assertEquals(await keys("198.51.100.2", ADMIN), 200, "another client is not");
  } finally {
    await worker.close();
  }
});

Deno.test("cloudflare worker: refused for its location, it relays once to a Deno deployment and clients get 200", async () => {
  const fake = await startFakeUpstream();
  fake.failFor(KEY_W, { kind: "location" });
  const deno = await denoDeployment(fake.url);
  const hop = startRecordingHop(deno.url);
  const worker = await startWorker({
    bindings: workerBindings(fake.url, { FALLBACK_PROXY_URLS: hop.url }),
    colo: "NRT",
  });
  try {
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: worker.url } });
    const reply = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "from Tokyo",
    });
    assertEquals(reply.text, "Echo: from Tokyo");
    const texts: string[] = [];
    const stream = await ai.models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "stream from Tokyo",
    });
    for await (const chunk of stream) texts.push(chunk.text ?? "");
    assert(texts.length >= 3, "streamed in chunks through both deployments");
    assertEquals(hop.seen.length, 2, "each request relayed exactly once");
    for (const seen of hop.seen) {
      assertNotIncludes(JSON.stringify(seen.headers) + seen.search, TOKEN, "relayed request");
      assertNotIncludes(JSON.stringify(seen.headers) + seen.search, KEY_W, "relayed request");
      assertEquals(seen.headers["x-gemini-proxy-hop"], "1");
    }
    assertEquals(
      fake.requests.map((r) => [r.key, r.responseStatus]),
      [[KEY_W, 400], [KEY_D, 200], [KEY_W, 400], [KEY_D, 200]],
    );
    const workerLogs = await adminLogs(worker.url, (logs) => logs.length >= 2);
    assertEquals(
      workerLogs.map((l) => [l.region, l.relayedTo, l.relayReason, l.status]),
      [["NRT", hop.url, "location", 200], ["NRT", hop.url, "location", 200]],
    );
    const denoLogs = await adminLogs(deno.url, (logs) => logs.length >= 2);
    assertEquals(denoLogs.map((l) => [l.relayedFrom, l.region, l.status]), [
      ["NRT", "us-east4", 200],
      ["NRT", "us-east4", 200],
    ]);
  } finally {
    await worker.close();
    await deno.close();
    await hop.close();
    await fake.close();
  }
});

Deno.test("cloudflare worker: in a blocked colo (HKG) it relays before trying upstream", async () => {
  const fake = await startFakeUpstream();
  const deno = await denoDeployment(fake.url);
  const worker = await startWorker({
    bindings: workerBindings(fake.url, { FALLBACK_PROXY_URLS: deno.url }),
    colo: "HKG",
  });
  try {
    const response = await generate(worker.url, "gemini-2.5-flash", "from Hong Kong");
    assertEquals(response.status, 200);
    assertStringIncludes(await response.text(), "Echo: from Hong Kong");
    assertEquals(fake.requests.map((r) => r.key), [KEY_D], "the Worker's key never went upstream");
    const health = await (await fetch(`${worker.url}/healthz`)).json();
    assertEquals([health.region, health.regionBlocked], ["HKG", true]);
    const [record] = await adminLogs(worker.url);
    assertEquals([record?.relayReason, record?.relayedTo, record?.attempts.length], [
      "blocked_colo",
      new URL(deno.url).origin,
      0,
    ]);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    assertStringIncludes(
      metrics,
      'gemini_proxy_relays_total{reason="blocked_colo",outcome="relayed"} 1',
    );
  } finally {
    await worker.close();
    await deno.close();
    await fake.close();
  }
});

Deno.test("cloudflare worker: a Worker and a Deno deployment falling back to each other relay once, and the client gets the location error", async () => {
  const fake = await startFakeUpstream();
  fake.failAll({ kind: "location" });
  let workerUrl = "";
  const toWorker = startRecordingHop(() => workerUrl);
  const deno: RunningServer = await denoDeployment(fake.url, {
    FALLBACK_PROXY_URLS: toWorker.url,
  });
  const toDeno = startRecordingHop(deno.url);
  const worker = await startWorker({
    bindings: workerBindings(fake.url, { FALLBACK_PROXY_URLS: toDeno.url }),
  });
  workerUrl = worker.url;
  try {
    for (const [first, hops] of [[worker.url, [1, 0]], [deno.url, [1, 1]]] as const) {
      const response = await generate(first);
      assertEquals(response.status, 400);
      const { error } = await response.json();
      assertEquals(error.status, "FAILED_PRECONDITION");
      assertStringIncludes(error.message, "location is not supported");
      assertEquals([toDeno.seen.length, toWorker.seen.length], [...hops] as number[]);
    }
    assertEquals(fake.requests.length, 4, "two upstream calls per client request, no more");
    const workerLogs = await adminLogs(worker.url, (logs) => logs.length >= 2);
    assertEquals(
      workerLogs.map((l) => [l.relayedTo ?? null, l.relayedFrom ?? null, l.errorClass]).sort(),
      [[toDeno.url, null, "location"], [null, "us-east4", "location"]].sort(),
    );
  } finally {
    await worker.close();
    await deno.close();
    await toDeno.close();
    await toWorker.close();
    await fake.close();
  }
});
