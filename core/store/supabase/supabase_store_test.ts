import { assertEquals } from "../../../tests/support/assert.ts";
import { runStoreContract, sampleLog } from "../../../tests/support/store_contract/mod.ts";
import type { LogRecord } from "../log_record.ts";
import { startSupabaseStack } from "../../../tests/support/supabase_stack.ts";
import { createServiceClient } from "./supabase_client.ts";
import { createSupabaseStore } from "./supabase_store.ts";

// One PostgreSQL for the file; each contract test gets a fresh database behind its own
// PostgREST-compatible shim, reached through supabase-js with the service role key.
const stack = await startSupabaseStack();

runStoreContract("supabase", async () => {
  const clock = { now: 1_700_000_000_000 };
  const project = await stack.createProject();
  const client = createServiceClient(project.url, project.serviceRoleKey);
  return {
    store: createSupabaseStore(client, { now: () => clock.now }),
    clock,
    cleanup: () => project.close(),
  };
});

function log(id: string, time: number, body: string): LogRecord {
  return sampleLog(id, time, { bytesIn: body.length, requestBody: body });
}

Deno.test("supabase store: a large log batch goes in slices and its counters count once", async () => {
  const project = await stack.createProject();
  try {
    const store = createSupabaseStore(createServiceClient(project.url, project.serviceRoleKey));
    const body = "x".repeat(100_000);
    const logs = Array.from({ length: 30 }, (_, i) => log(`0000000${10 + i}ab`, 1000 + i, body));
    const delta = {
      granularity: "h" as const,
      bucket: 0,
      keyId: "k1",
      model: "m",
      tokenId: "t1",
      field: "requests",
      value: 30,
    };
    const before = project.shim.requests;
    await store.insertLogs(logs, [delta], 86_400_000);
    const calls = project.shim.requests - before;
    assertEquals(calls >= 3, true, `${calls} calls for 3 MB`);
    assertEquals((await store.listLogs({}, 100)).logs.length, 30);
    assertEquals((await store.readAggregates("h", { from: 0, to: 1 }))[0]?.fields, {
      requests: 30,
    });
  } finally {
    await project.close();
  }
});

Deno.test("supabase store: log bodies with NUL characters and lone surrogates are stored", async () => {
  const project = await stack.createProject();
  try {
    const store = createSupabaseStore(createServiceClient(project.url, project.serviceRoleKey));
    await store.insertLogs([log("000000001ab", 1, "a\u0000b\ud800c")], [], 86_400_000);
    assertEquals((await store.getLog("000000001ab"))?.requestBody, "a\ufffdb\ufffdc");
  } finally {
    await project.close();
  }
});

Deno.test("supabase store: the test PostgreSQL stops", () => stack.close());
