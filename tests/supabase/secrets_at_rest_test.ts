/**
 * Secrets at rest on Postgres: after real traffic through the Edge Function and the console
 * (keys imported, a token created, bodies logged), no table holds a Gemini key or a token secret.
 * @module
 */
import { assert, assertEquals, assertNotIncludes } from "../support/assert.ts";
import { startFakeUpstream } from "../support/fake_upstream/mod.ts";
import { startSupabaseStack, withClient } from "../support/supabase_stack.ts";
import { startServer } from "../../adapters/deno/server.ts";
import { startFunctionProcess } from "../support/function_process.ts";
import { CHANGE_BOUND_MS, pollUntil, sleepUntil } from "../support/wall_clock.ts";

const stack = await startSupabaseStack();
const KEYS = [
  "AIzaFAKE-TEST-key-000000000000000000001",
  "AQ.FAKE-TEST-new-style-key-00000000000001",
];

Deno.test("no Postgres table holds a Gemini key or a token secret in clear", async () => {
  const project = await stack.createProject();
  const fake = await startFakeUpstream();
  const env = {
    SUPABASE_URL: project.url,
    SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
    SECRET_KEY: "test-secret-key-0123456789",
    UPSTREAM_URL: fake.url,
    LOG_BODIES: "all",
  };
  const consoleApp = await startServer(
    {
      ...env,
      STORE: "supabase",
      PORT: "0",
      ADMIN_PASSWORD: "admin-password-for-tests",
      GEMINI_API_KEYS: KEYS.join(","),
    },
    { logSink: () => {}, assets: null },
  );
  const fn = await startFunctionProcess(env);
  let secret = "";
  try {
    const created = await fetch(`${consoleApp.url}/admin/api/tokens`, {
      method: "POST",
      headers: {
        authorization: "Bearer admin-password-for-tests",
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "raw storage check" }),
    });
    const issued = await created.json();
    secret = issued.secret;
    assert(secret.startsWith("gp-"));
    // A second after the token was created the function knows it (the documented bound).
    await sleepUntil(Date.now() + CHANGE_BOUND_MS);
    const response = await fetch(
      `${fn.origin}/functions/v1/proxy/v1beta/models/gemini-2.5-flash:generateContent`,
      {
        method: "POST",
        headers: { "x-goog-api-key": secret, "content-type": "application/json" },
        body: JSON.stringify({
          contents: [{ parts: [{ text: `prompt naming ${KEYS[0]} and ${secret}` }] }],
        }),
      },
    );
    await response.body?.cancel();
    assertEquals(response.status, 200, "the function served the new token");
    // The function writes its log (with the body) in the background: wait until it is stored.
    await pollUntil(async () => {
      const page = await fetch(`${consoleApp.url}/admin/api/logs?tokenId=${issued.token.id}`, {
        headers: { authorization: "Bearer admin-password-for-tests" },
      });
      return (await page.json()).logs as unknown[];
    }, { until: (logs) => logs.length === 1, what: "the function's log record" });
  } finally {
    await fn.close();
    await consoleApp.close();
    await fake.close();
  }
  try {
    const dump = await withClient(project.databaseUrl, async (client) => {
      const tables = await client.query(
        "select table_name from information_schema.tables where table_schema = 'public'",
      );
      let all = "";
      for (const { table_name } of tables.rows as { table_name: string }[]) {
        const rows = await client.query(`select * from public."${table_name}"`);
        all += table_name + JSON.stringify(rows.rows) + "\n";
      }
      return all;
    });
    assert(dump.includes("gp_logs"), "the dump covers the log table");
    assert(/"status":\s*200|200/.test(dump), "traffic reached the store");
    for (const key of KEYS) assertNotIncludes(dump, key);
    assertNotIncludes(dump, secret);
  } finally {
    await project.close();
  }
});

Deno.test("secrets at rest on Postgres: the test PostgreSQL stops", () => stack.close());
