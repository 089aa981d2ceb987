/**
 * What an atomic proxy-token charge costs on Deno KV (a local file), at the store and end to end.
 *
 * `deno run -A --unstable-kv bench/token_charge.ts` prints:
 * - the latency of one `chargeTokenRequest` (sequential, uncontended) next to a plain KV read;
 * - 100 concurrent charges on one token with no effective limit (every one commits: worst-case
 *   contention on the checked counter) and with rpm 10 (10 commit, 90 are refused);
 * - sequential generateContent requests through the proxy with an unlimited token, one with
 *   request limits (one charge per request) and one with a daily token limit too (plus the
 *   usage write each next request waits for), so the differences are the quotas' share.
 * @module
 */
import { createKvStore } from "../adapters/deno/kv_store.ts";
import { sha256Hex } from "../core/secrets.ts";
import { startHarness, TOKEN } from "../tests/harness.ts";

const ROUNDS = 2000;

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `mean ${mean.toFixed(3)} ms, p50 ${at(0.5).toFixed(3)}, p99 ${at(0.99).toFixed(3)}`;
}

async function storeLevel(): Promise<void> {
  const dir = await Deno.makeTempDir();
  const kv = await Deno.openKv(`${dir}/bench.kv`);
  const store = createKvStore(kv);
  const reads: number[] = [];
  const charges: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    await kv.get(["meta", "version"]);
    reads.push(performance.now() - t);
    t = performance.now();
    await store.chargeTokenRequest("t_seq", { rpm: 1e9, rpd: 1e9 }, Date.now());
    charges.push(performance.now() - t);
  }
  console.log(`kv.get (one read):            ${stats(reads)}`);
  console.log(`chargeTokenRequest, 1 at once: ${stats(charges)}`);
  for (
    const [label, limits] of [["no effective limit", { rpm: 1e9 }], ["rpm 10", {
      rpm: 10,
    }]] as const
  ) {
    const at = Date.now();
    const t = performance.now();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => store.chargeTokenRequest(`t_${label}`, limits, at)),
    );
    const ms = performance.now() - t;
    const ok = results.filter((r) => r.ok).length;
    console.log(`100 concurrent charges, ${label}: ${ms.toFixed(1)} ms in all, ${ok} admitted`);
  }
  await store.close();
  await Deno.remove(dir, { recursive: true });
}

async function endToEnd(): Promise<void> {
  const h = await startHarness({ env: { LOG_LEVEL: "warn" } });
  const limited = "gp-BENCH-limited-token-000000001";
  const limitedTpd = "gp-BENCH-limited-token-000000002";
  const seed = createKvStore(await Deno.openKv(h.kvPath));
  for (
    const [id, secret, limits] of [
      ["t_requests", limited, { rpm: 1e9, rpd: 1e9 }],
      ["t_tokens", limitedTpd, { rpm: 1e9, rpd: 1e9, tpd: 1e12 }],
    ] as const
  ) {
    await seed.addToken({
      id,
      name: id,
      hash: await sha256Hex(secret),
      masked: "gp-B...0001",
      enabled: true,
      source: "admin",
      createdAt: Date.now(),
      limits,
    });
  }
  await seed.close();
  await h.proxy.gateway.registry.reload();
  async function run(secret: string): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      const response = await fetch(
        `${h.proxy.url}/v1beta/models/gemini-2.5-flash:generateContent`,
        {
          method: "POST",
          headers: { "x-goog-api-key": secret, "content-type": "application/json" },
          body: '{"contents":[{"parts":[{"text":"hello there"}]}]}',
        },
      );
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      samples.push(performance.now() - t);
    }
    return samples;
  }
  const variants = [
    ["unlimited token       ", TOKEN],
    ["token with rpm + rpd  ", limited],
    ["token with rpm+rpd+tpd", limitedTpd],
  ] as const;
  for (const [, secret] of variants) await run(secret);
  for (let round = 0; round < 2; round++) {
    for (const [label, secret] of variants) {
      console.log(`proxy request, ${label}: ${stats(await run(secret))}`);
    }
  }
  await h.close();
}

if (import.meta.main) {
  await storeLevel();
  await endToEnd();
}
