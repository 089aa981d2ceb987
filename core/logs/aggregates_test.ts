import { assertEquals } from "../../tests/support/assert.ts";
import type { AggregateRow } from "../store/mod.ts";
import { buildStats, granularityFor, percentile } from "./aggregates.ts";
import { batchDeltas, coalesce, deltasOf, latencyBucket } from "./deltas.ts";

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

Deno.test("coalesce() merges identical counters", () => {
  const d = (model: string, { field, value }: { field: string; value: number }) => ({
    granularity: "h" as const,
    bucket: 0,
    keyId: "k",
    model,
    tokenId: "t",
    field,
    value,
  });
  const merged = coalesce([
    d("a", { field: "requests", value: 1 }),
    d("a", { field: "requests", value: 1 }),
    d("b", { field: "requests", value: 1 }),
  ]);
  assertEquals(merged.length, 2);
});

Deno.test("buildStats() groups series", () => {
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
      fields: { requests: 1, "latency:250": 1, "usage:unknown": 1 },
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
    usageUnknown: 1,
    costMicros: 0,
    costUnknown: 0,
    errors: { quota_minute: 1 },
    statuses: {},
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
    usage: i === 1
      ? null
      : { prompt: 1, candidates: i, thoughts: 0, cached: 0, toolUse: 0, total: 1 + i },
    ...(i === 1 ? { usageUnknown: true, costUnknown: true } : { costMicros: 1000 * i + 7 }),
  }));
  const sort = (d: { granularity: string; bucket: number; tokenId: string; field: string }[]) =>
    d.map((x) => JSON.stringify(x)).sort();
  assertEquals(sort(batchDeltas(records)), sort(coalesce(records.flatMap(deltasOf))));
  assertEquals(
    batchDeltas(records).filter((d) => d.field === "usage:unknown").map((d) => d.value),
    [1, 1, 1, 1, 1, 1],
    "one stream without usage, in the full and roll-up rows of each granularity",
  );
});

/** A finished request's record, for cost tests. */
function costRecord(i: number, extra: Record<string, unknown>) {
  return {
    id: `c${i}`,
    time: 1_700_000_000_000 + i,
    httpMethod: "POST",
    path: "/p",
    tokenId: i % 2 ? "t1" : "t2",
    tokenName: "t",
    model: i < 3 ? "gemini-2.5-pro" : "my-tuned-model",
    method: "generateContent",
    flavour: "native",
    stream: false,
    status: 200,
    errorClass: null,
    attempts: [],
    keyId: "k1",
    keyMasked: "k",
    ttfbMs: 1,
    durationMs: 10,
    bytesIn: 1,
    bytesOut: 1,
    usage: null,
    finishReason: "STOP",
    truncated: false,
    region: null,
    userAgent: null,
    ...extra,
  };
}

/** The hour rows a store would hold after writing the records' counters. */
function hourRows(records: ReturnType<typeof costRecord>[]): AggregateRow[] {
  const rows = new Map<string, AggregateRow>();
  for (const d of batchDeltas(records).filter((d) => d.granularity === "h")) {
    const id = [d.bucket, d.keyId, d.model, d.tokenId].join("|");
    const row = rows.get(id) ??
      { bucket: d.bucket, keyId: d.keyId, model: d.model, tokenId: d.tokenId, fields: {} };
    row.fields[d.field] = (row.fields[d.field] ?? 0) + d.value;
    rows.set(id, row);
  }
  return [...rows.values()];
}

Deno.test("aggregates sum known costs and count unknown ones, by model, key and token", () => {
  const rows = hourRows([
    costRecord(0, { costMicros: 515_003 }),
    costRecord(1, { costMicros: 260_000 }),
    costRecord(2, { costMicros: 0 }),
    costRecord(3, { costUnknown: true }),
  ]);
  const range = { from: 1_699_999_200_000, to: 1_700_002_800_000, granularity: "h" as const };
  const all = buildStats(rows, { ...range, groupBy: "none" });
  assertEquals([all.totals.costMicros, all.totals.costUnknown], [775_003, 1]);
  assertEquals(all.series[0]!.costMicros, [775_003]);
  const byModel = buildStats(rows, { ...range, groupBy: "model" });
  assertEquals(
    byModel.series.map((s) => [s.group, s.costMicros]).sort(),
    [["gemini-2.5-pro", [775_003]], ["my-tuned-model", [0]]],
  );
  const byToken = buildStats(rows, { ...range, groupBy: "tokenId" });
  assertEquals(
    byToken.series.map((s) => [s.group, s.costMicros]).sort(),
    [["t1", [260_000]], ["t2", [515_003]]],
  );
  assertEquals(byToken.totals.costUnknown, 1);
  // Each group says how many of its requests have no known cost, so none reads as $0.
  assertEquals(
    byModel.series.map((s) => [s.group, s.costUnknown]).sort(),
    [["gemini-2.5-pro", [0]], ["my-tuned-model", [1]]],
  );
  assertEquals(
    byToken.series.map((s) => [s.group, s.costUnknown, s.overall.costUnknown]).sort(),
    [["t1", [1], 1], ["t2", [0], 0]],
  );
  assertEquals([all.series[0]!.overall.costMicros, all.series[0]!.overall.costUnknown], [
    775_003,
    1,
  ]);
});

Deno.test("buildStats() splits errors by side and status, and sums the whole range", () => {
  const rows: AggregateRow[] = [
    {
      bucket: 0,
      keyId: "k1",
      model: "a",
      tokenId: "t1",
      fields: {
        requests: 10,
        "errors:auth": 3,
        "errors:quota_minute": 1,
        "status:401": 3,
        "status:429": 1,
        "latency:50": 9,
        "latency:1000": 1,
        "tokens:total": 40,
      },
    },
    {
      bucket: 3_600_000,
      keyId: "k2",
      model: "a",
      tokenId: "t1",
      fields: { requests: 2, "errors:upstream_unavailable": 2, "status:503": 2, "latency:50": 2 },
    },
  ];
  const range = { from: 0, to: 7_200_000, granularity: "h" as const };
  const all = buildStats(rows, { ...range, groupBy: "tokenId" });
  const t1 = all.series[0]!;
  assertEquals(t1.errorGroups.client, [3, 0]);
  assertEquals(t1.errorGroups.keys, [1, 0]);
  assertEquals(t1.errorGroups.upstream, [0, 2]);
  assertEquals(t1.overall, {
    requests: 12,
    errors: 6,
    errorGroups: { client: 3, keys: 1, upstream: 2, proxy: 0 },
    tokens: 40,
    costMicros: 0,
    costUnknown: 0,
    p50: 50,
    p95: 1000,
  });
  assertEquals(all.totals.statuses, { "401": 3, "429": 1, "503": 2 });
  const k2 = buildStats(rows, { ...range, groupBy: "none", where: { keyId: "k2" } });
  assertEquals(k2.series.map((x) => [x.group, x.requests]), [["all", [0, 2]]]);
  assertEquals(k2.totals.statuses, { "503": 2 });
});

Deno.test("deltasOf() counts error statuses, never successes", () => {
  const base = {
    id: "a",
    time: 0,
    httpMethod: "POST",
    path: "/p",
    tokenId: null,
    tokenName: null,
    model: "m",
    method: "generateContent",
    flavour: "native",
    stream: false,
    errorClass: null,
    attempts: [],
    keyId: null,
    keyMasked: null,
    ttfbMs: null,
    durationMs: 1,
    bytesIn: 0,
    bytesOut: 0,
    usage: null,
    finishReason: null,
    truncated: false,
    region: null,
    userAgent: null,
  };
  const fields = (status: number) =>
    deltasOf({ ...base, status }).filter((d) => d.field.startsWith("status:")).map((d) => d.field);
  assertEquals(fields(200), []);
  assertEquals([...new Set(fields(401))], ["status:401"]);
  assertEquals(fields(0), []);
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
