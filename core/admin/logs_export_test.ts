import { assert, assertEquals } from "../../tests/support/assert.ts";
import { sampleLog } from "../../tests/support/store_contract/mod.ts";
import { createApp } from "../app.ts";
import { parseConfig } from "../config/config.ts";
import { idAt } from "../store/log_filter.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/mod.ts";
import { exportLogs } from "./logs_export.ts";

const START = 1_700_000_000_000;

/** A memory store holding `n` logs whose `listLogs` calls are counted and can be held. */
async function countedStore(n: number) {
  const store = createMemoryStore({ now: () => START + n + 1000 });
  const records = Array.from(
    { length: n },
    (_, i) => sampleLog(`${idAt(START + i)}000ab`, START + i, { userAgent: `ua-${i}` }),
  );
  for (let i = 0; i < n; i += 5000) await store.insertLogs(records.slice(i, i + 5000), [], 3.6e6);
  const state = { calls: 0, finished: 0, gate: null as Promise<void> | null };
  const counted: Store = {
    ...store,
    async listLogs(filter, limit, cursor) {
      state.calls++;
      if (state.calls > 1 && state.gate) await state.gate;
      const page = await store.listLogs(filter, limit, cursor);
      state.finished++;
      return page;
    },
  };
  return { store: counted, state };
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

Deno.test("exportLogs() sends its first bytes before the next page is read", async () => {
  const { store, state } = await countedStore(1000);
  let open = () => {};
  state.gate = new Promise<void>((resolve) => open = resolve);
  const reader = exportLogs(store, {}, { format: "csv", pageSize: 100 }).getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert(first.startsWith("id,time,status"), first.slice(0, 40));
  // The header and the first page are out while the second page has not come back.
  assertEquals(state.finished, 1);
  open();
  const rest = await readAll(reader);
  assertEquals((first + rest).trim().split("\r\n").length, 1001);
  assertEquals(state.finished, 10);
});

Deno.test("exportLogs() reads one page ahead at most, however large the export", async () => {
  const { store, state } = await countedStore(20_000);
  const reader = exportLogs(store, {}, { format: "ndjson", pageSize: 200 }).getReader();
  let chunks = 0;
  let lines = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks++;
    lines += new TextDecoder().decode(value).split("\n").length - 1;
    // Back-pressure: the stream asks the store for a page only when the reader wants more.
    assert(state.calls <= chunks + 1, `${state.calls} pages read for ${chunks} sent`);
  }
  assertEquals([lines, chunks, state.calls], [20_000, 100, 100]);
});

Deno.test("GET /admin/api/logs/export streams over HTTP: bytes arrive while a page is pending", async () => {
  const { store, state } = await countedStore(600);
  const gateway = await createApp({
    config: parseConfig({
      SECRET_KEY: "export-test-secret-0123",
      ADMIN_PASSWORD: "export-test-pw",
    }),
    store,
    now: () => START + 2000,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gateway.fetch);
  try {
    let open = () => {};
    state.gate = new Promise<void>((resolve) => open = resolve);
    const response = await fetch(
      `http://127.0.0.1:${server.addr.port}/admin/api/logs/export?format=ndjson`,
      { headers: { authorization: "Bearer export-test-pw" } },
    );
    assertEquals(response.status, 200);
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert(first.includes('"userAgent":"ua-599"'), first.slice(0, 80));
    assertEquals(state.finished, 1);
    open();
    const all = first + await readAll(reader);
    assertEquals(all.trim().split("\n").length, 600);
  } finally {
    await server.shutdown();
    await gateway.logs.flush();
    await store.close();
  }
});

Deno.test("exportLogs() writes each request's cost in exact dollars, and says when it is unknown", async () => {
  const store = createMemoryStore({ now: () => START + 1000 });
  const at = (i: number) => `${idAt(START + i)}000ab`;
  await store.insertLogs(
    [
      sampleLog(at(0), START, { costMicros: 1550 }),
      sampleLog(at(1), START + 1, { costUnknown: true }),
      sampleLog(at(2), START + 2, { costMicros: 25_000_000 }),
      sampleLog(at(3), START + 3, {}),
    ],
    [],
    3.6e6,
  );
  const csv = await readAll(exportLogs(store, {}, { format: "csv" }).getReader());
  const [header, ...rows] = csv.trim().split("\r\n").map((l) => l.split(","));
  const cost = header!.indexOf("cost_usd");
  assertEquals(header![cost + 1], "cost_unknown");
  assertEquals(
    rows.map((r) => [r[cost], r[cost + 1]]),
    [["", ""], ["25.00", "false"], ["", "true"], ["0.00155", "false"]],
  );
});
