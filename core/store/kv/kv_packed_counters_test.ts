import { assert, assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import { countReads, zeroReads } from "../../../tests/support/read_counter.ts";
import type { KvDatabase } from "./kv_database.ts";
import {
  MAX_LABEL_CHARS,
  PackedCounters,
  PART_BYTES,
  readPacked,
  type ScopePart,
} from "./kv_packed_counters.ts";

/** Every row under a prefix, added up across segments and parts: `scope|labels` -> fields. */
async function totals(
  kv: KvDatabase,
  prefix: string,
): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  await readPacked(kv, { prefix: [prefix] }, (scope, labels, fields) => {
    const id = `${scope.join("/")}|${labels.join("|")}`;
    const row = out.get(id) ?? Object.create(null);
    for (const f in fields) row[f] = (row[f] ?? 0) + fields[f]!;
    out.set(id, row);
  });
  return out;
}

/** Sizes of the values stored under a prefix, bytes. */
async function valueSizes(kv: Deno.Kv, prefix: string): Promise<number[]> {
  const sizes: number[] = [];
  for await (const e of kv.list<Uint8Array>({ prefix: [prefix] })) sizes.push(e.value.length);
  return sizes;
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("packed counters: two writers on one store add up exactly", () =>
  withKv(async (kv) => {
    const a = new PackedCounters(kv, { prefix: "p", now: () => 0, segment: "a" });
    const b = new PackedCounters(kv, { prefix: "p", now: () => 0, segment: "b" });
    for (let i = 0; i < 100; i++) {
      a.row(["m", 60_000], ["k1", "gemini"]).add("requests", 1);
      b.row(["m", 60_000], ["k1", "gemini"]).add("requests", 2);
      b.row(["m", 60_000], [`k${i}`, "gemini"]).add("tokens", i);
    }
    await Promise.all([a.write(), b.write()]);
    const rows = await totals(kv, "p");
    assertEquals(rows.get("m/60000|k1|gemini"), { requests: 300, tokens: 1 });
    assertEquals(rows.get("m/60000|k99|gemini"), { tokens: 99 });
    // Zero, negative and non-finite amounts add nothing.
    a.row(["m", 60_000], ["k1", "gemini"]).add("requests", 0);
    a.row(["m", 60_000], ["k1", "gemini"]).add("requests", -5);
    a.row(["m", 60_000], ["k1", "gemini"]).add("requests", Infinity);
    a.row(["m", 60_000], ["k1", "gemini"]).add("requests", NaN);
    await a.write();
    assertEquals((await totals(kv, "p")).get("m/60000|k1|gemini"), { requests: 300, tokens: 1 });
  }));

Deno.test("packed counters: a write rewrites only the parts that changed, and never counts twice", () =>
  withKv(async (raw) => {
    const counts = zeroReads();
    const kv = countReads(raw, counts);
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    // 10,000 rows: many parts.
    for (let i = 0; i < 10_000; i++) {
      c.row(["d", 0], [`k_${String(i).padStart(16, "0")}`, "gemini-2.5-flash"]).add("requests", 1);
    }
    await c.write();
    const parts = (await valueSizes(raw, "p")).length;
    assert(parts > 4, `${parts} parts`);
    assertEquals(counts.mutations, parts);
    // Nothing changed: nothing written.
    await c.write();
    assertEquals(counts.mutations, parts);
    // One row changed: its part alone, however often it is written.
    c.row(["d", 0], [`k_${String(5).padStart(16, "0")}`, "gemini-2.5-flash"]).add("requests", 1);
    await c.write();
    await c.write();
    assertEquals(counts.mutations, parts + 1);
    const rows = await totals(kv, "p");
    assertEquals(rows.size, 10_000);
    assertEquals(rows.get(`d/0|k_${String(5).padStart(16, "0")}|gemini-2.5-flash`), {
      requests: 2,
    });
  }));

Deno.test("packed counters: hostile labels and field names are stored as given, within KV's value limit", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    const hostile = [
      '"quoted" \\ back\\slash',
      "\u0000\u0001\u001f control",
      "lone \ud800 surrogate \udfff",
      "ünïcödé ✓ 🚀",
      "__proto__",
      "constructor",
      "\u2028\u2029",
    ];
    const expected = new Map<string, Record<string, number>>();
    for (const [i, label] of hostile.entries()) {
      c.row(["m", 1], [label, label]).add(label, i + 1);
      expected.set(`m/1|${label}|${label}`, { [label]: i + 1 });
    }
    // Long labels are clipped, so that any row fits one value.
    const long = "\u0000".repeat(100_000);
    c.row(["m", 1], [long, long]).add("requests", 7);
    const clipped = long.slice(0, MAX_LABEL_CHARS);
    expected.set(`m/1|${clipped}|${clipped}`, { requests: 7 });
    // Thousands of rows whose every character JSON escapes into six bytes.
    for (let i = 0; i < 3_000; i++) {
      const label = `\u0001${"\u0002".repeat(50)}${i}`;
      c.row(["m", 1], [label, "m"]).add("requests", 1);
      expected.set(`m/1|${label}|m`, { requests: 1 });
    }
    await c.write();
    assertEquals(await totals(kv, "p"), expected);
    for (const size of await valueSizes(kv, "p")) assert(size <= PART_BYTES, `${size} bytes`);
  }));

Deno.test("packed counters: a row that keeps gaining fields goes on in another part once its own is full", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    for (let i = 0; i < 600; i++) c.row(["h", 0], [`key-${i}`, "x".repeat(80)]).add("requests", 1);
    // Row 0 gains 2,000 fields, far more than its part has room for.
    for (let f = 0; f < 2_000; f++) {
      c.row(["h", 0], ["key-0", "x".repeat(80)]).add(`status:${f}`, f + 1);
    }
    // And the fields it already has keep adding where they are.
    c.row(["h", 0], ["key-0", "x".repeat(80)]).add("requests", 1);
    c.row(["h", 0], ["key-0", "x".repeat(80)]).add("status:1999", 1);
    await c.write();
    const row = (await totals(kv, "p")).get(`h/0|key-0|${"x".repeat(80)}`)!;
    assertEquals(Object.keys(row).length, 2_001);
    assertEquals(row.requests, 2);
    assertEquals(row["status:0"], 1);
    assertEquals(row["status:1999"], 2_001);
    const sizes = await valueSizes(kv, "p");
    assert(sizes.length >= 2, `${sizes.length} parts`);
    for (const size of sizes) assert(size <= PART_BYTES, `${size} bytes`);
  }));

Deno.test("packed counters: a refused write keeps the changes, and the next write stores them once", () =>
  withKv(async (raw) => {
    let refuse = true;
    const kv: KvDatabase = new Proxy(raw, {
      get(target, name) {
        if (name !== "atomic") return Reflect.get(target, name, target).bind(target);
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => refuse ? Promise.reject(new Error("store down")) : commit();
          return op;
        };
      },
    });
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    c.row(["m", 0], ["k", "m"]).add("requests", 3);
    await assertRejects(() => c.write(), "store down");
    assertEquals(c.dirtyParts, 1);
    c.row(["m", 0], ["k", "m"]).add("requests", 1);
    refuse = false;
    await c.write();
    await c.write();
    assertEquals(c.dirtyParts, 0);
    assertEquals((await totals(raw, "p")).get("m/0|k|m"), { requests: 4 });
  }));

Deno.test("packed counters: idle scopes are forgotten once written; a late row starts a new segment", () =>
  withKv(async (kv) => {
    const clock = { now: 0 };
    const c = new PackedCounters(kv, { prefix: "p", now: () => clock.now });
    const minute: ScopePart[] = ["m", 0];
    c.row(minute, ["k", "m"]).add("requests", 1);
    c.row(["d", 0], ["k", "m"]).add("requests", 1);
    await c.write();
    clock.now += 60_000;
    c.row(["d", 0], ["k", "m"]).add("requests", 1);
    await c.write();
    assertEquals(c.rows, 2);
    clock.now += 90_000;
    await c.write();
    // The minute went idle 150 s ago: forgotten. The day, 90 s ago: kept.
    assertEquals(c.rows, 1);
    c.row(minute, ["k", "m"]).add("requests", 5);
    await c.write();
    const rows = await totals(kv, "p");
    assertEquals(rows.get("m/0|k|m"), { requests: 6 });
    assertEquals(rows.get("d/0|k|m"), { requests: 2 });
    assertEquals((await valueSizes(kv, "p")).length, 3);
  }));

Deno.test("packed counters: concurrent writes land in order, the last totals last", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      c.row(["m", 0], ["k", "m"]).add("requests", 1);
      writes.push(c.write());
    }
    await Promise.all(writes);
    assertEquals((await totals(kv, "p")).get("m/0|k|m"), { requests: 50 });
  }));

Deno.test("packed counters: values of another shape under the prefix are skipped, not thrown on", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    c.row(["m", 0], ["k", "m"]).add("requests", 2);
    await c.write();
    const bytes = (text: string) => new TextEncoder().encode(text);
    const odd = [
      "null",
      "7",
      '"text"',
      "not json",
      '{"n":"x","rows":[]}',
      '{"n":2,"rows":[5,null]}',
    ];
    for (const [i, text] of odd.entries()) await kv.set(["p", "m", 0, `odd${i}`, 0], bytes(text));
    await kv.set(["p", "m", 0, "plain", 0], { n: 2 });
    assertEquals((await totals(kv, "p")).get("m/0|k|m"), { requests: 2 });
  }));

Deno.test("packed counters: a part rewritten after some rows changed is exactly the JSON of every row's totals", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0, segment: "s" });
    const labels = [
      ["k1", "gemini"],
      ['"quoted"\\', "\u0000\u001f\ud800"],
      ["__proto__", "constructor"],
      ["emoji \u{1f600}", ""],
    ];
    const expected: (string | number)[][] = labels.map((l) => [...l]);
    const add = (i: number, field: string, value: number) => {
      c.row(["m", 0], labels[i]!).add(field, value);
      const row = expected[i]!;
      const at = row.indexOf(field, 2);
      if (at >= 2 && at % 2 === 0) row[at + 1] = (row[at + 1] as number) + value;
      else row.push(field, value);
    };
    const stored = async () => {
      const e = await kv.get<Uint8Array>(["p", "m", 0, "s.0", 0]);
      return new TextDecoder().decode(e.value!);
    };
    add(0, "requests", 1);
    add(1, "tokens", 5);
    add(2, "constructor", 2);
    add(3, 'a"b', 0.5);
    await c.write();
    assertEquals(await stored(), JSON.stringify({ n: 2, rows: expected }));
    // One row changes, one gains a field; the others are as written before.
    add(1, "tokens", 7);
    add(3, "requests", 1);
    add(1, "tokens", Number.MAX_VALUE);
    add(1, "tokens", Number.MAX_VALUE);
    await c.write();
    assertEquals(await stored(), JSON.stringify({ n: 2, rows: expected }), "overflow is `null`");
    assertEquals((await totals(kv, "p")).get("m/0|k1|gemini"), { requests: 1 });
  }));

Deno.test("packed counters: rows with no labels are stored as valid JSON", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    c.row(["w"], []).add("requests", 3);
    c.row(["w"], []).add("tokens", 4);
    await c.write();
    assertEquals([...(await totals(kv, "p"))], [["w|", { requests: 3, tokens: 4 }]]);
  }));

Deno.test("packed counters: fields add up the same whether a row scans or indexes them", () =>
  withKv(async (kv) => {
    const c = new PackedCounters(kv, { prefix: "p", now: () => 0 });
    const expected: Record<string, number> = {};
    // 1 to 40 fields: rows cross the point where a row indexes its fields while they are added
    // to, each field added to again after later ones came.
    for (let width = 1; width <= 40; width++) {
      for (let round = 1; round <= 3; round++) {
        for (let f = 0; f < width; f++) {
          c.row(["m", 0], [`w${width}`]).add(`f${f}`, round * (f + 1));
        }
      }
    }
    await c.write();
    const rows = await totals(kv, "p");
    for (let width = 1; width <= 40; width++) {
      for (let f = 0; f < width; f++) expected[`f${f}`] = 6 * (f + 1);
      for (const f in expected) if (Number(f.slice(1)) >= width) delete expected[f];
      assertEquals(rows.get(`m/0|w${width}`), expected, `${width} fields`);
    }
  }));
