import { assertEquals } from "../../tests/assert.ts";
import type { AggregateRow } from "../store/store.ts";
import {
  batchDeltas,
  buildStats,
  coalesce,
  deltasOf,
  granularityFor,
  latencyBucket,
  percentile,
} from "./aggregates.ts";

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
      keyId: "*",
      model: "a",
      tokenId: "*",
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
      keyId: "*",
      model: "b",
      tokenId: "*",
      fields: { requests: 1, "latency:250": 1 },
    },
    // A full-dimension row: counted by key and token views only, never twice.
    { bucket: 0, keyId: "k", model: "a", tokenId: "t", fields: { requests: 2 } },
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
  const byKey = buildStats(rows, { from: 0, to: 7_200_000, granularity: "h", groupBy: "keyId" });
  assertEquals(byKey.series.map((x) => [x.group, x.requests]), [["k", [2, 0]]]);
});

Deno.test("batchDeltas() equals coalesce() over deltasOf() for a batch", () => {
  const base = {
    httpMethod: "POST",
    path: "/p",
    tokenName: "t",
    method: "generateContent",
    flavour: "native",
    stream: false,
    status: 200,
    keyMasked: "k",
    ttfbMs: 1,
    bytesIn: 1,
    bytesOut: 1,
    finishReason: "STOP",
    truncated: false,
    region: null,
    userAgent: null,
  };
  const records = [0, 1, 2, 3].map((i) => ({
    ...base,
    id: `r${i}`,
    time: 1_700_000_000_000 + i * 40_000,
    tokenId: i % 2 ? "t1" : "t2",
    model: "m",
    keyId: "k1",
    errorClass: i === 3 ? "quota_minute" : null,
    attempts: i === 2
      ? [{ keyId: "a", keyMasked: "a", status: 429, errorClass: "quota_minute", durationMs: 1 }, {
        keyId: "k1",
        keyMasked: "k",
        status: 200,
        errorClass: null,
        durationMs: 1,
      }]
      : [],
    durationMs: 30 * (i + 1),
    usage: { prompt: 1, candidates: i, thoughts: 0, cached: 0, toolUse: 0, total: 1 + i },
  }));
  const sort = (d: { granularity: string; bucket: number; tokenId: string; field: string }[]) =>
    d.map((x) => JSON.stringify(x)).sort();
  assertEquals(sort(batchDeltas(records)), sort(coalesce(records.flatMap(deltasOf))));
});

Deno.test("batchDeltas() keeps invented model names under one label", () => {
  const record = (i: number) => ({
    id: `r${i}`,
    time: 1_700_000_000_000,
    httpMethod: "POST",
    path: "/p",
    tokenId: "t",
    tokenName: "t",
    model: i === 0 ? "gemini-2.5-flash" : `gemini-invented-${i}`,
    method: "generateContent",
    flavour: "native" as const,
    stream: false,
    status: 404,
    errorClass: null,
    attempts: [],
    keyId: "k",
    keyMasked: "k",
    ttfbMs: 1,
    durationMs: 1,
    bytesIn: 1,
    bytesOut: 1,
    usage: null,
    finishReason: null,
    truncated: false,
    region: null,
    userAgent: null,
  });
  const records = Array.from({ length: 5000 }, (_, i) => record(i));
  const label = (model: string) => model === "gemini-2.5-flash" ? model : "other";
  const models = new Set(batchDeltas(records, label).map((d) => d.model));
  assertEquals([...models].sort(), ["gemini-2.5-flash", "other"]);
  assertEquals(new Set(batchDeltas(records).map((d) => d.model)).size, 5000);
});
