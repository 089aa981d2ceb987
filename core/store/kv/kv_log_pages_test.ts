import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { sampleLog } from "../../../tests/support/store_contract/mod.ts";
import { idAt, type LogRecord } from "../mod.ts";
import {
  countKvLogs,
  CUT_TO_FIT,
  packPages,
  PAGE_BYTES,
  PAGE_SPAN_MS,
  writePages,
} from "./kv_log_pages.ts";
import { createKvStore } from "./kv_store.ts";

const T0 = 1_700_000_000_000;

function records(n: number, extra: Partial<LogRecord> = {}): LogRecord[] {
  return Array.from(
    { length: n },
    (_, i) => sampleLog(`${idAt(T0 + i)}${String(i % 1000).padStart(3, "0")}ab`, T0 + i, extra),
  );
}

Deno.test("insertLogs() on KV packs a batch into a few pages, not one entry per record", async () => {
  const kv = await Deno.openKv(":memory:");
  const store = createKvStore(kv, { now: () => T0 });
  try {
    const batch = records(500);
    await store.insertLogs(batch, [], 60_000);
    let entries = 0;
    for await (const _ of kv.list({ prefix: [] })) entries++;
    assert(entries <= 10, `500 records took ${entries} entries`);
    assertEquals(await countKvLogs(kv), 500);
    const all = await store.listLogs({}, 1000);
    assertEquals(all.logs.map((r) => r.id), batch.map((r) => r.id).reverse());
    assertEquals(await store.getLog(batch[123]!.id), batch[123]!);
  } finally {
    await store.close();
  }
});

Deno.test("packPages() keeps every page under KV's value limit, wide characters counted double", async () => {
  const wide = records(200, { responseBody: "\u4e00".repeat(3000) });
  const pages = packPages(wide);
  assertEquals(pages.reduce((n, p) => n + p.page.n, 0), 200);
  for (const { page } of pages) assert(page.json.length * 2 <= PAGE_BYTES);
  const store = createKvStore(await Deno.openKv(":memory:"), { now: () => T0 });
  try {
    await store.insertLogs(wide, [], 60_000);
    assertEquals((await store.listLogs({}, 500)).logs.length, 200);
  } finally {
    await store.close();
  }
});

Deno.test("packPages() starts a new page past the span, so a read looks ahead a bounded way", () => {
  const late = sampleLog(`${idAt(T0 - 60_000)}000zz`, T0 - 60_000);
  const pages = packPages([...records(3), late]);
  assertEquals(pages.map((p) => p.page.n), [1, 3]);
  for (const { maxId, page } of pages) {
    assert(parseInt(maxId.slice(0, 9), 36) - parseInt(page.min.slice(0, 9), 36) <= PAGE_SPAN_MS);
  }
});

Deno.test("a KV store written one entry per record by an earlier version stays readable", async () => {
  const kv = await Deno.openKv(":memory:");
  const store = createKvStore(kv, { now: () => T0 });
  try {
    const [a, b, c, d] = records(4);
    // The earlier layout: ["logs", id] -> record.
    await kv.set(["logs", a!.id], a);
    await kv.set(["logs", c!.id], c);
    await store.insertLogs([b!, d!], [], 60_000);
    const listed = await store.listLogs({}, 10);
    assertEquals(listed.logs.map((r) => r.id), [d!.id, c!.id, b!.id, a!.id]);
    const paged = await store.listLogs({}, 2, listed.logs[1]!.id);
    assertEquals(paged.logs.map((r) => r.id), [b!.id, a!.id]);
    assertEquals(await store.getLog(c!.id), c!);
    assertEquals(await countKvLogs(kv), 4);
  } finally {
    await store.close();
  }
});

Deno.test("packPages() counts a whole page double once any of its records holds a wide character", async () => {
  // Narrow records fill most of a page; one wide character makes V8 store the whole page's JSON
  // at two bytes a character, which Deno KV refused ("Value too large") before pages counted so.
  const narrow = records(300, { responseBody: "a".repeat(150) });
  const mixed = narrow.map((r, i) => i === 50 ? { ...r, model: "models/\u4e00" } : r);
  const pages = packPages(mixed);
  assertEquals(pages.reduce((n, p) => n + p.page.n, 0), 300);
  for (const { page, bytes } of pages) {
    const wide = /[\u0100-\uffff]/.test(page.json);
    assertEquals(bytes, page.json.length * (wide ? 2 : 1));
    assert(bytes <= PAGE_BYTES, `a page of ${bytes} bytes`);
  }
  const store = createKvStore(await Deno.openKv(":memory:"), { now: () => T0 });
  try {
    await store.insertLogs(mixed, [], 60_000);
    assertEquals((await store.listLogs({}, 500)).logs.length, 300);
    assertEquals((await store.getLog(mixed[50]!.id))?.model, "models/\u4e00");
  } finally {
    await store.close();
  }
});

Deno.test("packPages() clips the bodies of a record too large for a page alone, and only those", async () => {
  // 8,192 control characters are 49,152 characters of JSON; a wide one doubles the whole record.
  const body = "\u4e00" + "\u0001".repeat(8191);
  const [small, large] = records(2);
  const huge = { ...large!, requestBody: body, responseBody: body };
  const pages = packPages([{ ...small!, responseBody: "ok" }, huge]);
  const stored = pages.flatMap((p) => JSON.parse(p.page.json) as LogRecord[]);
  for (const { bytes } of pages) assert(bytes <= PAGE_BYTES, `a page of ${bytes} bytes`);
  assertEquals(stored[0]!.responseBody, "ok");
  for (const text of [stored[1]!.requestBody!, stored[1]!.responseBody!]) {
    assert(text.endsWith(CUT_TO_FIT), text.slice(-40));
    assert(body.startsWith(text.slice(0, -CUT_TO_FIT.length)), "a prefix of the body is kept");
    assert(text.length > 1000, `${text.length} characters kept`);
  }
  const store = createKvStore(await Deno.openKv(":memory:"), { now: () => T0 });
  try {
    await store.insertLogs([huge], [], 60_000);
    assert((await store.getLog(huge.id))?.requestBody?.endsWith(CUT_TO_FIT));
  } finally {
    await store.close();
  }
});

Deno.test("writePages() packs a batch a page at a time, other tasks running in between, and commits a few pages at once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const batch = records(500, { responseBody: "x".repeat(400) });
    const pages = packPages(batch).length;
    assert(pages >= 6, `${pages} pages`);
    // Tasks queued while the batch is written: with the batch packed in one go, none would run
    // before the first commit.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const commits: { sets: number; ticks: number }[] = [];
    const atomic = kv.atomic.bind(kv);
    kv.atomic = () => {
      const op = atomic();
      const commit = op.commit.bind(op);
      const set = op.set.bind(op);
      const made = { sets: 0, ticks: -1 };
      op.set = (...args) => {
        made.sets++;
        return set(...args);
      };
      op.commit = () => {
        made.ticks = ticks;
        commits.push(made);
        return commit();
      };
      return op;
    };
    await writePages(kv, { records: batch, retentionMs: 60_000 });
    clearInterval(ticker);
    assert(commits[0]!.ticks >= 1, `${commits[0]!.ticks} tasks ran while the batch was packed`);
    assertEquals(commits.map((c) => c.sets), [
      ...Array(Math.floor(pages / 2)).fill(2),
      ...(pages % 2 ? [1] : []),
    ]);
    assertEquals(await countKvLogs(kv), 500);
  } finally {
    kv.close();
  }
});
