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
