/**
 * The log-search part of the store contract: the console's filters (part of a model id, a search
 * over path and user agent) must behave alike on every backend. Run by `runStoreContract`.
 * @module
 */
import { assertEquals } from "../assert.ts";
import type { LogFilter, Store } from "../../../core/store/mod.ts";
import { idAt } from "../../../core/store/log_filter.ts";
import { sampleLog } from "./_fixtures.ts";

/**
 * Registers the log-search contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test body with a fresh store.
 */
export function runLogSearchContract(
  name: string,
  withStore: (fn: (t: { store: Store }) => Promise<void>) => Promise<void>,
): void {
  Deno.test(`${name} store: logs filter by part of the model, path or user agent`, () =>
    withStore(async ({ store }) => {
      const records = [
        sampleLog(`${idAt(2000)}00ab`, 2000, { model: "gemini-2.5-pro", userAgent: "curl/8.5" }),
        sampleLog(`${idAt(2001)}00ab`, 2001, {
          model: "gemini-2.5-flash",
          path: "/v1beta/openai/chat/completions",
          userAgent: "OpenAI/JS 7.1",
        }),
        sampleLog(`${idAt(2002)}00ab`, 2002, { model: "Gemini-2.5-PRO-preview", userAgent: null }),
        sampleLog(`${idAt(2003)}00ab`, 2003, { model: null, path: "/upload/v1beta/files" }),
        // A search is text, never a pattern: "%" and "_" match only themselves.
        sampleLog(`${idAt(2004)}00ab`, 2004, { model: "m_100%", userAgent: "x" }),
      ];
      await store.insertLogs(records, [], 60_000);
      const times = async (filter: LogFilter) =>
        (await store.listLogs(filter, 100)).logs.map((l) => l.time);
      assertEquals(await times({ model: "pro" }), [2002, 2000]);
      assertEquals(await times({ model: "FLASH" }), [2001]);
      assertEquals(await times({ search: "openai" }), [2001]);
      assertEquals(await times({ search: "CURL" }), [2000]);
      assertEquals(await times({ search: "/upload/" }), [2003]);
      assertEquals(await times({ model: "%" }), [2004]);
      assertEquals(await times({ model: "_1" }), [2004]);
      assertEquals(await times({ search: "%" }), []);
      assertEquals(await times({ model: "pro", search: "curl" }), [2000]);
    }));
}

/**
 * Registers the log-paging and aggregate-batch contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test body with a fresh store.
 */
export function runLogPagingContract(
  name: string,
  withStore: (fn: (t: { store: Store; clock: { now: number } }) => Promise<void>) => Promise<void>,
): void {
  Deno.test(`${name} store: log pages follow the cursor newest first across batches written out of order`, () =>
    withStore(async ({ store }) => {
      // Three batches as three writers would send them: finish order is not start order, and a
      // long request lands in a batch of much newer ones.
      const at = (t: number, n: number) =>
        sampleLog(`${idAt(t)}${String(n).padStart(3, "0")}ab`, t);
      const batches = [
        [at(10_000, 1), at(10_400, 2), at(3_000, 3), at(10_200, 4)],
        [at(9_000, 5), at(10_100, 6), at(10_300, 7)],
        [at(500, 8), at(10_050, 9), at(9_999, 10), at(12_000, 11)],
      ];
      for (const batch of batches) await store.insertLogs(batch, [], 3_600_000);
      const expected = batches.flat().map((r) => r.id).sort().reverse();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { logs: { id: string }[]; cursor: string | null } = await store.listLogs(
          {},
          3,
          cursor,
        );
        seen.push(...page.logs.map((l) => l.id));
        cursor = page.cursor;
      } while (cursor);
      assertEquals(seen, expected);
      const window = await store.listLogs({ from: 9_000, to: 10_300 }, 100);
      assertEquals(window.logs.map((l) => l.time), [10_200, 10_100, 10_050, 10_000, 9_999, 9_000]);
      assertEquals((await store.getLog(batches[0]![2]!.id))?.time, 3_000);
      assertEquals(await store.getLog(`${idAt(3_000)}999zz`), null);
    }));

  Deno.test(`${name} store: an aggregate batch retried under its id is added once`, () =>
    withStore(async ({ store, clock }) => {
      // A recent bucket: stores drop buckets past their retention.
      const bucket = Math.floor(clock.now / 3_600_000) * 3_600_000;
      const row = (fields: Record<string, number>) => ({
        granularity: "h" as const,
        bucket,
        keyId: "k1",
        model: "m",
        tokenId: "t1",
        fields,
      });
      const first = { id: "batch-1", rows: [row({ requests: 2, "tokens:total": 30 })] };
      await store.addAggregates(first);
      await store.addAggregates(first);
      await store.addAggregates({ id: "batch-2", rows: [row({ requests: 1 })] });
      const rows = await store.readAggregates("h", { from: bucket, to: bucket + 3_600_000 });
      assertEquals(rows.map((r) => r.fields), [{ requests: 3, "tokens:total": 30 }]);
    }));
}
