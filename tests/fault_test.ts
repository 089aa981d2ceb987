/**
 * Faults: a broken upstream or store, and clients that leave. Nothing crashes, nothing hangs,
 * keys are not blamed for what is not their fault.
 */
import { createApp } from "../core/app.ts";
import { parseConfig } from "../core/config/config.ts";
import { createMemoryStore } from "../core/store/memory_store.ts";
import type { Store } from "../core/store/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { generate, memoryAppEnv, startHarness, TOKEN } from "./support/harness.ts";
import { leaveHeldStream } from "./support/leave_stream.ts";
import { tailLogs } from "./support/log_tail.ts";

/**
 * A TCP server that misbehaves in a chosen way on every connection. `reset_mid_stream` sends
 * headers and one chunk, then drops the connection once `cut()` is called (so a test can take
 * the chunk first).
 */
function brokenUpstream(behaviour: "hang" | "garbage" | "close" | "reset_mid_stream"): {
  url: string;
  cut(): void;
  close(): void;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const cut = Promise.withResolvers<void>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(65536);
        await conn.read(buf).catch(() => null);
        const write = (s: string) => conn.write(new TextEncoder().encode(s)).catch(() => 0);
        if (behaviour === "garbage") {
          await write("this is not http at all\r\n\r\n");
          conn.close();
        } else if (behaviour === "close") {
          conn.close();
        } else if (behaviour === "reset_mid_stream") {
          await write(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
          );
          const chunk = 'data: {"candidates":[{"content":{"parts":[{"text":"partial"}]}}]}\r\n\r\n';
          await write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
          await cut.promise;
          conns.delete(conn);
          conn.close();
        }
        // "hang": keep the connection open and silent until the test ends.
      })();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    cut: () => cut.resolve(),
    close() {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      listener.close();
    },
  };
}

async function withBroken(
  behaviour: Parameters<typeof brokenUpstream>[0],
  fn: (h: Awaited<ReturnType<typeof startHarness>>, cut: () => void) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const broken = brokenUpstream(behaviour);
  const h = await startHarness({ env: { UPSTREAM_URL: broken.url, ...env } });
  try {
    await fn(h, broken.cut);
    const health = await fetch(`${h.proxy.url}/healthz`);
    assertEquals(health.status, 200, "still serving");
    await health.body?.cancel();
  } finally {
    broken.close();
    await h.close();
  }
}

Deno.test("an upstream that hangs before headers gets 504 and no key is blamed", () =>
  withBroken("hang", async (h) => {
    const response = await h.generate();
    assertEquals(response.status, 504);
    const body = await response.json();
    assertEquals(body.error.status, "DEADLINE_EXCEEDED");
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
    assertEquals(h.proxy.gateway.pool.cooldowns(), []);
  }, { UPSTREAM_TIMEOUT_MS: "1000", MAX_ATTEMPTS: "2" }));

Deno.test("an upstream that answers garbage or closes at once gets 502", async () => {
  for (const behaviour of ["garbage", "close"] as const) {
    await withBroken(behaviour, async (h) => {
      const response = await h.generate();
      assertEquals(response.status, 502, behaviour);
      assertEquals((await response.json()).error.status, "UNAVAILABLE");
      assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
    });
  }
});

Deno.test("an upstream reset mid-stream ends the client's stream, logged and counted as upstream_midstream", () =>
  withBroken("reset_mid_stream", async (h, cut) => {
    const response = await fetch(
      `${h.proxy.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN },
        body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
      },
    );
    assertEquals(response.status, 200);
    const id = response.headers.get("x-request-id")!;
    const tail = tailLogs(h.proxy.gateway.logs);
    let received = "";
    try {
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        received += chunk;
        // Upstream drops the connection once the client holds the chunk sent before.
        if (received.includes("partial")) cut();
      }
    } catch {
      // The relay errors the client stream: the client learns the answer is incomplete.
    }
    assertStringIncludes(received, "partial");
    await tail.record(id);
    tail.close();
    await h.proxy.gateway.logs.flush();
    const logs = await (await import("../core/store/kv/mod.ts")).createKvStore(
      await Deno.openKv(h.kvPath),
    );
    const record = await logs.getLog(id);
    await logs.close();
    assertEquals([record?.truncated, record?.errorClass], [true, "upstream_midstream"]);
    const metrics = await (await fetch(`${h.proxy.url}/metrics`, {
      headers: { authorization: "Bearer metrics-token-123" },
    })).text();
    assertStringIncludes(metrics, 'gemini_proxy_errors_total{class="upstream_midstream"} 1');
  }, { METRICS_TOKEN: "metrics-token-123" }));

Deno.test("a failing store leaves the proxy serving from memory, health degraded, logs kept", async () => {
  const fake = await startFakeUpstream();
  const base = createMemoryStore();
  let broken = false;
  let countersBroken = false;
  const store: Store = new Proxy(base, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function" || name === "close") return value;
      return (...args: unknown[]) => {
        if (broken || (countersBroken && name === "addAggregates")) {
          return Promise.reject(new Error("store unavailable"));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const config = parseConfig(memoryAppEnv(fake.url));
  const gateway = await createApp({ config, store, logSink: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gateway.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    broken = true;
    await gateway.sync();
    for (let i = 0; i < 5; i++) {
      const response = await generate(url);
      assertEquals(response.status, 200);
      await response.body?.cancel();
    }
    await gateway.sync();
    const health = await (await fetch(`${url}/healthz`)).json();
    assertEquals(health.status, "degraded");
    assertEquals(health.store.ok, false);
    assertEquals([health.logs.queued, health.logs.failing], [5, true]);
    broken = false;
    await gateway.sync();
    assertEquals(gateway.logs.depth, 0);
    assertEquals((await base.listLogs({}, 100)).logs.length, 5, "no record lost");
    const healed = await (await fetch(`${url}/healthz`)).json();
    assertEquals(healed.status, "ok");
    // Counters that cannot be written stay held, and /healthz says how many rows wait.
    countersBroken = true;
    const another = await generate(url);
    await another.body?.cancel();
    await gateway.settle();
    const held = await (await fetch(`${url}/healthz`)).json();
    assertEquals(held.logs.queued, 0);
    assert(held.logs.countersPending > 0, "the unwritten counter rows are reported");
    countersBroken = false;
    await gateway.settle();
    const stored = await (await fetch(`${url}/healthz`)).json();
    assertEquals([stored.logs.queued, stored.logs.countersPending], [0, 0]);
  } finally {
    await server.shutdown();
    await fake.close();
  }
});

Deno.test("a client leaving mid-stream aborts upstream and the log says so", async () => {
  const h = await startHarness({ fake: { streamChunks: 20 } });
  const tail = tailLogs(h.proxy.gateway.logs);
  try {
    const hold = h.fake.holdStreamChunk(1);
    const controller = new AbortController();
    const response = await fetch(
      `${h.proxy.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN },
        body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
        signal: controller.signal,
      },
    );
    const reader = response.body!.getReader();
    await reader.read();
    await hold.reached;
    const upstream = await leaveHeldStream(h.fake, {
      hold,
      lastChunk: 19,
      async leave() {
        controller.abort();
        await reader.cancel().catch(() => {});
      },
    });
    assert(upstream.cancelled);
    // The proxy queues the record once it has seen the client leave.
    await tail.record(response.headers.get("x-request-id")!);
    await h.proxy.gateway.logs.flush();
    const store = (await import("../core/store/kv/mod.ts")).createKvStore(
      await Deno.openKv(h.kvPath),
    );
    const [record] = (await store.listLogs({}, 1)).logs;
    await store.close();
    assertEquals([record?.truncated, record?.errorClass], [true, "client_cancelled"]);
    const health = await fetch(`${h.proxy.url}/healthz`);
    assertEquals(health.status, 200);
    await health.body?.cancel();
  } finally {
    tail.close();
    await h.close();
  }
});
