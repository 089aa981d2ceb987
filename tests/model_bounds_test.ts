/**
 * Invented model names cannot grow the proxy: thousands of distinct (well-formed) names, on the
 * native and OpenAI paths, leave the rotation state, the /metrics text, the aggregate counters
 * and the stored key usage with one shared `other` entry, while confirmed models keep their own.
 */
import { assert, assertEquals } from "./support/assert.ts";
import { type Harness, startHarness, TOKEN } from "./support/harness.ts";
import { createKvStore } from "../core/store/kv/mod.ts";

const ADMIN = "admin-password-for-tests";
const NAMES = 2000;
const KEYS = 20;

async function metricsLines(h: Harness): Promise<string[]> {
  const text = await (await fetch(`${h.proxy.url}/metrics`)).text();
  return text.split("\n").filter((line) => line && !line.startsWith("#"));
}

/** Sends `count` requests, `concurrency` at a time, each with its own model name. */
async function flood(h: Harness, from: number, count: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < from + count) {
      const i = next++;
      const response = i % 2
        ? await fetch(`${h.proxy.url}/v1beta/models/gemini-invented-${i}:generateContent`, {
          method: "POST",
          headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
        })
        : await fetch(`${h.proxy.url}/v1beta/openai/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: `models/gemini-invented-${i}`,
            messages: [{ role: "user", content: "x" }],
          }),
        });
      assertEquals(response.status, 404, `upstream does not know gemini-invented-${i}`);
      await response.body?.cancel();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function storedUsageModels(h: Harness): Promise<Set<string>> {
  await h.proxy.gateway.settle();
  const kv = await Deno.openKv(h.kvPath);
  try {
    // The keys' counters as stored: every row of the current minute and Pacific day.
    const rows = await createKvStore(kv).readKeyUsage(h.clock.now);
    return new Set(rows.map((row) => row.model));
  } finally {
    kv.close();
  }
}

Deno.test("thousands of invented model names leave state, /metrics and stored rows bounded", async () => {
  const keys = Array.from(
    { length: KEYS },
    (_, i) => `AIzaFAKE-TEST-key-${String(i).padStart(21, "0")}`,
  );
  const h = await startHarness({ keys, env: { ADMIN_PASSWORD: ADMIN } });
  try {
    assertEquals((await h.generate("gemini-2.5-flash")).status, 200);
    await flood(h, 0, 20);
    const before = await metricsLines(h);
    await flood(h, 20, NAMES);
    const after = await metricsLines(h);
    assertEquals(after.length, before.length, "no new series");
    assert(!after.some((line) => line.includes("gemini-invented")), "no invented name is a label");
    assert(after.some((line) => line.includes('model="other"')), "they count under other");
    assert(
      after.some((line) => line.includes('model="gemini-2.5-flash"')),
      "confirmed keeps its own",
    );

    const size = h.proxy.gateway.pool.stateSize();
    assert(size.counters <= 3 * KEYS, `counters: ${JSON.stringify(size)}`);
    assert(size.ready <= 2, `ready lists: ${JSON.stringify(size)}`);

    assertEquals([...await storedUsageModels(h)].sort(), ["gemini-2.5-flash", "other"]);
    await h.proxy.gateway.settle();
    const stats = await (await fetch(`${h.proxy.url}/admin/api/stats?range=1h&group=model`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })).json();
    const groups = stats.series.map((s: { group: string }) => s.group).sort();
    assertEquals(groups, ["gemini-2.5-flash", "other"]);
    assertEquals(stats.totals.requests, NAMES + 21);
  } finally {
    await h.close();
  }
});
