/**
 * Regional failover between two Deno deployments in front of one fake upstream that refuses the
 * first deployment's keys for their location. The Worker runs the same scenarios in workerd
 * (adapters/cloudflare/worker_test.ts).
 * @module
 */
import { GoogleGenAI } from "@google/genai";
import { type RunningServer, startServer } from "../adapters/deno/server.ts";
import { assert, assertEquals, assertNotIncludes, assertStringIncludes } from "./support/assert.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { fakeKeys, generate, SECRET, TOKEN } from "./support/harness.ts";
import { ADMIN, adminLogs, freePort, RELAY, startRecordingHop } from "./support/relay_helpers.ts";

const [KEY_A, KEY_B] = fakeKeys(2) as [string, string];

function deployment(
  upstreamUrl: string,
  key: string,
  env: Record<string, string>,
  logs?: string[],
): Promise<RunningServer> {
  return startServer({
    PORT: "0",
    STORE: "memory",
    SECRET_KEY: SECRET,
    UPSTREAM_URL: upstreamUrl,
    GEMINI_API_KEYS: key,
    PROXY_TOKENS: TOKEN,
    ADMIN_PASSWORD: ADMIN,
    RELAY_SECRET: RELAY,
    RETRY_BACKOFF_MS: "0",
    LOG_LEVEL: "warn",
    ...env,
  }, { logSink: (level, line) => logs?.push(`${level} ${line}`), syncIntervalMs: 20 });
}

Deno.test("a request refused for its location is relayed once to the fallback and answered there", async () => {
  const fake = await startFakeUpstream();
  fake.failFor(KEY_A, { kind: "location" });
  const b = await deployment(fake.url, KEY_B, { DENO_REGION: "us-east4" });
  const hop = startRecordingHop(b.url);
  const a = await deployment(fake.url, KEY_A, {
    REGION: "asia-east2", // what Deno Deploy cannot tell, set by the operator
    FALLBACK_PROXY_URLS: hop.url,
  });
  try {
    const response = await generate(a.url, "gemini-2.5-flash", "relay me");
    assertEquals(response.status, 200);
    assertEquals(await response.text(), fake.requests.at(-1)!.responseBody);
    assertEquals(fake.requests.map((r) => [r.key, r.responseStatus]), [[KEY_A, 400], [KEY_B, 200]]);

    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: a.url } });
    const texts: string[] = [];
    const stream = await ai.models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "stream through the fallback",
    });
    for await (const chunk of stream) texts.push(chunk.text ?? "");
    assert(texts.length >= 3, "the stream arrived in chunks");
    const chat = await fetch(`${a.url}/v1beta/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "openai route" }],
      }),
    });
    assertEquals(chat.status, 200);
    assertEquals(await chat.text(), fake.requests.at(-1)!.responseBody);
    assertEquals(hop.seen.length, 3, "each request was relayed exactly once");

    for (const seen of hop.seen) {
      assertStringIncludes(seen.headers["x-gemini-proxy-relay"] ?? "", ";from=asia-east2;");
      const all = JSON.stringify(seen.headers) + seen.search;
      assertNotIncludes(all, TOKEN, "relayed request");
      assertNotIncludes(all, KEY_A, "relayed request");
      assertEquals(seen.headers["x-goog-api-key"], undefined);
      assertEquals(seen.headers["authorization"], undefined);
      assertEquals(seen.headers["x-gemini-proxy-hop"], "1");
      assert(seen.headers["x-gemini-proxy-relay"]?.startsWith("v1;"), "signed relay header");
    }
    for (const r of fake.requests) assertNotIncludes(JSON.stringify(r.headers), "x-gemini-proxy");

    const logsA = await adminLogs(a.url, (logs) => logs.length >= 3);
    const relayedA = logsA.filter((l) => l.relayedTo === hop.url);
    assertEquals(relayedA.length, 3);
    for (const record of relayedA) {
      assertEquals(record.relayReason, "location");
      assertEquals(record.status, 200);
      assertEquals(record.region, "asia-east2");
      assertEquals(record.attempts[0]?.errorClass, "location");
      assertEquals(record.tokenName !== null, true);
    }
    const logsB = await adminLogs(b.url, (logs) => logs.length >= 3);
    assertEquals(
      logsB.map((l) => [l.relayedFrom, l.tokenId, l.status, l.relayedTo]),
      Array(3).fill(["asia-east2", null, 200, undefined]),
    );
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert(metrics.includes('gemini_proxy_relays_total{reason="location",outcome="relayed"} 3'));
  } finally {
    await a.close();
    await b.close();
    await hop.close();
    await fake.close();
  }
});

Deno.test("loops are impossible: two deployments falling back to each other relay only once", async () => {
  const fake = await startFakeUpstream();
  fake.failAll({ kind: "location" });
  let aUrl = "";
  let bUrl = "";
  const toB = startRecordingHop(() => bUrl);
  const toA = startRecordingHop(() => aUrl);
  const a = await deployment(fake.url, KEY_A, { FALLBACK_PROXY_URLS: toB.url });
  const b = await deployment(fake.url, KEY_B, { FALLBACK_PROXY_URLS: toA.url });
  aUrl = a.url;
  bUrl = b.url;
  try {
    for (const [first, hops] of [[a, [1, 0]], [b, [1, 1]]] as const) {
      const response = await generate(first.url);
      assertEquals(response.status, 400);
      const { error } = await response.json();
      assertEquals(error.status, "FAILED_PRECONDITION");
      assert(/location is not supported/i.test(error.message), error.message);
      assertEquals([toB.seen.length, toA.seen.length], [...hops] as number[]);
    }
    assertEquals(fake.requests.length, 4, "each client request reached upstream twice, no more");
    const logsA = await adminLogs(a.url, (logs) => logs.length >= 2);
    assertEquals(
      logsA.map((l) => [l.relayedTo ?? null, l.relayedFrom ?? null, l.errorClass]).sort(),
      [[null, "unknown", "location"], [toB.url, null, "location"]].sort(),
    );
  } finally {
    await a.close();
    await b.close();
    await toA.close();
    await toB.close();
    await fake.close();
  }
});

Deno.test("an unreachable fallback leaves the upstream answer, and the log says the relay failed", async () => {
  const fake = await startFakeUpstream();
  fake.failAll({ kind: "location" });
  const a = await deployment(fake.url, KEY_A, {
    FALLBACK_PROXY_URLS: `http://127.0.0.1:${freePort()}`,
  });
  try {
    const response = await generate(a.url);
    assertEquals(response.status, 400);
    assertEquals((await response.json()).error.status, "FAILED_PRECONDITION");
    const [record] = await adminLogs(a.url);
    assertEquals([record?.relayedTo, record?.relayReason, record?.errorClass], [
      null,
      "location",
      "location",
    ]);
  } finally {
    await a.close();
    await fake.close();
  }
});

Deno.test("a request claiming to be a relay without the right signature is refused", async () => {
  const fake = await startFakeUpstream();
  const open = await deployment(fake.url, KEY_A, {});
  const closed = await deployment(fake.url, KEY_B, { RELAY_SECRET: "" });
  try {
    const forged = {
      "x-gemini-proxy-hop": "1",
      "x-gemini-proxy-relay": `v1;t=${Date.now()};from=HKG;body=x;sig=forged`,
    };
    const wrong = await fetch(`${open.url}/v1beta/models`, { headers: forged });
    assertEquals(wrong.status, 401);
    assertEquals((await wrong.json()).error.details[0].reason, "RELAY_SIGNATURE_INVALID");
    const refused = await fetch(`${closed.url}/v1beta/models`, { headers: forged });
    assertEquals(refused.status, 401);
    assertEquals((await refused.json()).error.details[0].reason, "RELAY_NOT_ACCEPTED");
    assertEquals(fake.requests.length, 0);
  } finally {
    await open.close();
    await closed.close();
    await fake.close();
  }
});

Deno.test("a fallback that refuses the relay's signature gives the client 502 RELAY_REJECTED, and both operators are told", async () => {
  const fake = await startFakeUpstream();
  fake.failFor(KEY_A, { kind: "location" });
  const logsA: string[] = [];
  const logsB: string[] = [];
  const b = await deployment(
    fake.url,
    KEY_B,
    { RELAY_SECRET: "another-relay-secret-0123456789" },
    logsB,
  );
  const a = await deployment(fake.url, KEY_A, { FALLBACK_PROXY_URLS: b.url }, logsA);
  try {
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: a.url } });
    let status = 0;
    try {
      await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "relay me" });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    assertEquals(status, 502, "never the 401 an SDK reads as a bad token");
    const raw = await generate(a.url);
    assertEquals(raw.status, 502);
    const { error } = await raw.json();
    assertEquals([error.status, error.details[0].reason], ["UNAVAILABLE", "RELAY_REJECTED"]);
    assertNotIncludes(JSON.stringify(error), "another-relay-secret", "client answer");
    assert(
      logsA.some((l) => l.startsWith("error") && l.includes("RELAY_SECRET")),
      `relaying side logs an error: ${logsA.join("\n")}`,
    );
    assert(
      logsB.some((l) => l.startsWith("warn") && l.includes("relay refused")),
      `receiving side logs a warning: ${logsB.join("\n")}`,
    );
    const [record] = await adminLogs(a.url);
    assertEquals([record?.status, record?.relayedTo, record?.errorClass], [
      502,
      b.url,
      "relay_rejected",
    ]);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert(metrics.includes('gemini_proxy_relays_total{reason="location",outcome="refused"} 2'));
    assertEquals(fake.requests.map((r) => r.key), [KEY_A, KEY_A], "B never called upstream");
  } finally {
    await a.close();
    await b.close();
    await fake.close();
  }
});

Deno.test("a fallback pinned to a Supabase region gets x-region, and the parameter stays out of the URL", async () => {
  const fake = await startFakeUpstream();
  fake.failFor(KEY_A, { kind: "location" });
  const b = await deployment(fake.url, KEY_B, {});
  const hop = startRecordingHop(b.url);
  const a = await deployment(fake.url, KEY_A, {
    FALLBACK_PROXY_URLS: `${hop.url}/?forceFunctionRegion=eu-central-1`,
  });
  try {
    const response = await generate(a.url, "gemini-2.5-flash", "pinned relay");
    assertEquals(response.status, 200);
    assertEquals(await response.text(), fake.requests.at(-1)!.responseBody);
    assertEquals(hop.seen.length, 1);
    const [seen] = hop.seen;
    assertEquals(seen!.headers["x-region"], "eu-central-1");
    assertEquals(seen!.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assertEquals(seen!.search, "");
    for (const r of fake.requests) assertNotIncludes(r.search, "forceFunctionRegion", "query");
    const [record] = await adminLogs(a.url);
    assertEquals(record?.relayedTo, hop.url);
  } finally {
    await a.close();
    await b.close();
    await hop.close();
    await fake.close();
  }
});
