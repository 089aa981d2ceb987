/**
 * The store contract: request logs, aggregates, named counters and token usage.
 * Run by `runStoreContract`.
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { idAt } from "../../../core/store/mod.ts";
import { sampleLog, type WithStore } from "./_fixtures.ts";

/**
 * Registers these contract tests for one backend.
 * @param name Backend name used in test names.
 * @param withStore Runs a test on a fresh store.
 */
export function runRecordsContract(name: string, withStore: WithStore): void {
  Deno.test(`${name} store: logs list newest first with filters and cursor pages`, () =>
    withStore(async ({ store }) => {
      const records = Array.from(
        { length: 25 },
        (_, i) =>
          sampleLog(`${idAt(1000 + i)}00ab`, 1000 + i, {
            status: i % 5 === 0 ? 429 : 200,
            errorClass: i % 5 === 0 ? "quota_minute" : null,
            model: i % 2 ? "a" : "b",
            stream: i % 3 === 0,
          }),
      );
      await store.insertLogs(records.slice(0, 10), [], 60_000);
      await store.insertLogs(records.slice(10), [], 60_000);
      const first = await store.listLogs({}, 10);
      assertEquals(first.logs.map((l) => l.time), Array.from({ length: 10 }, (_, i) => 1024 - i));
      assert(first.cursor);
      const second = await store.listLogs({}, 10, first.cursor);
      assertEquals(second.logs[0]?.time, 1014);
      const third = await store.listLogs({}, 10, second.cursor);
      assertEquals([third.logs.length, third.cursor], [5, null]);
      const errors = await store.listLogs({ status: "4xx" }, 100);
      assertEquals(errors.logs.map((l) => l.time), [1020, 1015, 1010, 1005, 1000]);
      assertEquals(
        (await store.listLogs({ errorClass: "quota_minute", model: "b" }, 100)).logs.length,
        3,
      );
      assertEquals(
        (await store.listLogs({ stream: true, from: 1010, to: 1020 }, 100)).logs.map((l) => l.time),
        [1018, 1015, 1012],
      );
      assertEquals((await store.getLog(records[3]!.id))?.time, 1003);
      assertEquals(await store.getLog("missing"), null);
    }));

  Deno.test(`${name} store: aggregates sum per bucket and dimensions and read by range`, () =>
    withStore(async ({ store, clock }) => {
      const hour = Math.floor(clock.now / 3_600_000) * 3_600_000 - 2 * 3_600_000;
      const delta = (at: number, field: string, value: number, model = "m") => ({
        bucket: hour + at,
        granularity: "h" as const,
        keyId: "k1",
        model,
        tokenId: "t1",
        field,
        value,
      });
      await Promise.all(
        Array.from({ length: 10 }, () =>
          store.insertLogs([], [
            delta(3_600_000, "requests", 1),
            delta(3_600_000, "tokens:total", 7),
          ], 60_000)),
      );
      await store.insertLogs(
        [],
        [delta(7_200_000, "requests", 2, "n"), delta(0, "requests", 5)],
        60_000,
      );
      const rows = await store.readAggregates("h", {
        from: hour + 3_600_000,
        to: hour + 10_800_000,
      });
      const byModel = Object.fromEntries(
        rows.map((r) => [`${r.bucket - hour}:${r.model}`, r.fields]),
      );
      assertEquals(byModel, {
        "3600000:m": { requests: 10, "tokens:total": 70 },
        "7200000:n": { requests: 2 },
      });
      assertEquals(await store.readAggregates("m", { from: hour, to: hour + 10_800_000 }), []);
    }));

  Deno.test(`${name} store: named counters add up`, () =>
    withStore(async ({ store }) => {
      assertEquals(await store.readCounter("logs_dropped"), 0);
      await Promise.all([store.addCounter("logs_dropped", 2), store.addCounter("logs_dropped", 3)]);
      assertEquals(await store.readCounter("logs_dropped"), 5);
    }));

  // Token usage

  Deno.test(`${name} store: token usage adds up per minute, Pacific day and month`, () =>
    withStore(async ({ store, clock }) => {
      const at = clock.now;
      await Promise.all(Array.from({ length: 10 }, () =>
        store.addTokenUsage([
          { tokenId: "t", requests: 0, tokens: 60, at },
          { tokenId: "u", requests: 1, tokens: 5, at },
        ])));
      await store.addTokenUsage([{ tokenId: "t", requests: 2, tokens: 400, at: at + 60_000 }]);
      assertEquals(await store.readTokenUsage("t", at + 60_000), {
        minuteRequests: 2,
        dayRequests: 2,
        dayTokens: 1000,
        monthRequests: 2,
        monthTokens: 1000,
        monthCostMicros: 0,
      });
      assertEquals(await store.readTokenUsage("u", at), {
        minuteRequests: 10,
        dayRequests: 10,
        dayTokens: 50,
        monthRequests: 10,
        monthTokens: 50,
        monthCostMicros: 0,
      });
      const tomorrow = at + 24 * 3_600_000;
      assertEquals(await store.readTokenUsage("t", tomorrow), {
        minuteRequests: 0,
        dayRequests: 0,
        dayTokens: 0,
        monthRequests: 2,
        monthTokens: 1000,
        monthCostMicros: 0,
      });
      assertEquals((await store.readTokenUsage("nobody", at)).monthTokens, 0);
    }));
}
