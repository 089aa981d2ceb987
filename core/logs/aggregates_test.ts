import { assertEquals } from "../../tests/assert.ts";
import type { AggregateRow } from "../store/store.ts";
import { buildStats, coalesce, granularityFor, latencyBucket, percentile } from "./aggregates.ts";

Deno.test("latencyBucket() and percentile() agree on bucket bounds", () => {
  assertEquals([latencyBucket(3), latencyBucket(50), latencyBucket(51), latencyBucket(1e9)], [
    "25",
    "50",
    "100",
    "inf",
  ]);
  const h = new Map([["25", 50], ["100", 45], ["1000", 5]]);
  assertEquals([percentile(h, 0.5), percentile(h, 0.95), percentile(h, 0.99)], [25, 100, 1000]);
  assertEquals(percentile(new Map(), 0.5), null);
});

Deno.test("granularityFor() picks minutes, hours or days by range", () => {
  assertEquals([
    granularityFor(3_600_000),
    granularityFor(86_400_000),
    granularityFor(30 * 86_400_000),
  ], ["m", "h", "d"]);
});

Deno.test("coalesce() merges identical counters and buildStats() groups series", () => {
  const d = (bucket: number, model: string, field: string, value: number) => ({
    granularity: "h" as const,
    bucket,
    keyId: "k",
    model,
    tokenId: "t",
    field,
    value,
  });
  const merged = coalesce([
    d(0, "a", "requests", 1),
    d(0, "a", "requests", 1),
    d(0, "b", "requests", 1),
  ]);
  assertEquals(merged.length, 2);
  const rows: AggregateRow[] = [
    {
      bucket: 0,
      keyId: "k",
      model: "a",
      tokenId: "t",
      fields: {
        requests: 2,
        "errors:quota_minute": 1,
        "tokens:total": 10,
        "latency:50": 2,
        failovers: 1,
      },
    },
    {
      bucket: 3_600_000,
      keyId: "k",
      model: "b",
      tokenId: "t",
      fields: { requests: 1, "latency:250": 1 },
    },
  ];
  const stats = buildStats(rows, { from: 0, to: 7_200_000, granularity: "h", groupBy: "model" });
  assertEquals(stats.buckets, [0, 3_600_000]);
  const a = stats.series.find((s) => s.group === "a")!;
  assertEquals([a.requests, a.errors, a.tokens, a.failovers, a.p50], [[2, 0], [1, 0], [10, 0], [
    1,
    0,
  ], [50, null]]);
  assertEquals(stats.totals, {
    requests: 3,
    failovers: 1,
    errors: { quota_minute: 1 },
    tokens: { total: 10 },
  });
});
