import { assertEquals } from "../../tests/support/assert.ts";
import { sampleLog } from "../../tests/support/store_contract/mod.ts";
import { type AggregateDelta, fieldDeltas, type LogRecord } from "../store/mod.ts";
import { DeltaBuffer } from "./delta_buffer.ts";
import { coalesce, deltasOf } from "./deltas.ts";

function sorted(deltas: AggregateDelta[]): AggregateDelta[] {
  const id = (d: AggregateDelta) =>
    [d.granularity, d.bucket, d.keyId, d.model, d.tokenId, d.field].join("|");
  return deltas.slice().sort((a, b) => id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0);
}

function varied(n: number): LogRecord[] {
  const t0 = 1_700_000_000_000;
  return Array.from({ length: n }, (_, i) =>
    sampleLog(`r${i}`, t0 + i * 7_919_000, {
      keyId: i % 5 === 0 ? null : `k${i % 3}`,
      model: i % 7 === 0 ? null : `m${i % 2}`,
      tokenId: i % 4 === 0 ? null : `t${i % 2}`,
      status: [200, 429, 500, 200][i % 4]!,
      errorClass: i % 4 === 1 ? "quota" : i % 4 === 2 ? "upstream_5xx" : null,
      durationMs: (i * 997) % 70_000,
      usage: i % 3 === 0 ? null : {
        prompt: i,
        candidates: 2 * i,
        thoughts: i % 2,
        cached: 0,
        toolUse: 0,
        total: 3 * i + (i % 2),
      },
      usageUnknown: i % 3 === 0,
      costMicros: i % 3 === 0 ? undefined : 10 * i,
      costUnknown: i % 3 === 0,
      attempts: Array.from({ length: 1 + (i % 3) }, () => ({
        keyId: "k",
        keyMasked: "AIza...TEST",
        status: 200,
        errorClass: null,
        durationMs: 1,
      })),
    }));
}

Deno.test("DeltaBuffer gives the same counters as adding up every record's own increments", () => {
  const records = varied(300);
  const buffer = new DeltaBuffer();
  buffer.add(records.slice(0, 120));
  buffer.add(records.slice(120));
  const rows = buffer.take();
  assertEquals(sorted(fieldDeltas(rows)), sorted(coalesce(records.flatMap(deltasOf))));
  // Each row once, its counters together.
  const ids = rows.map((r) => [r.granularity, r.bucket, r.keyId, r.model, r.tokenId].join("|"));
  assertEquals(new Set(ids).size, rows.length);
  assertEquals([buffer.size, buffer.take().length], [0, 0]);
});

Deno.test("DeltaBuffer keeps counters under the folded model name", () => {
  const buffer = new DeltaBuffer(() => "other");
  buffer.add(varied(10));
  const models = new Set(buffer.take().map((r) => r.model));
  assertEquals([...models].sort(), ["-", "other"]);
});
