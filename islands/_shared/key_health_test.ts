import { assertEquals } from "../../tests/support/assert.ts";
import { buildStats } from "../../core/logs/aggregates.ts";
import { formatRate, keyHealthOf } from "./key_health.ts";

Deno.test("keyHealthOf() blames a key for key and upstream errors, never a client's", () => {
  const stats = buildStats([
    {
      bucket: 0,
      keyId: "k1",
      model: "m",
      tokenId: "t",
      fields: {
        requests: 10,
        "errors:client_error": 4,
        "errors:quota_minute": 1,
        "latency:250": 10,
      },
    },
  ], { from: 0, to: 3_600_000, granularity: "h", groupBy: "keyId" });
  assertEquals(keyHealthOf(stats.series), { k1: { requests: 10, successRate: 0.9, p50: 250 } });
  assertEquals([formatRate(0.9), formatRate(1), formatRate(null), formatRate(0.995)], [
    "90.0%",
    "100%",
    "–",
    "99.5%",
  ]);
});
