/**
 * `STORE=supabase`: the Deno app (and its admin API) and the Edge Function share one Supabase
 * project, so what the console does reaches the function: a token created with limits in the
 * console is accepted, counted and refused by the function; logs the function writes are listed
 * by the console.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startFakeUpstream } from "../support/fake_upstream/mod.ts";
import { startSupabaseStack } from "../support/supabase_stack.ts";
import { startServer } from "../../adapters/deno/server.ts";
import { parseConfig } from "../../core/config/config.ts";
import { startFunctionProcess } from "../support/function_process.ts";
import { inOneMinute, pollUntil, sleepUntil } from "../support/wall_clock.ts";

const stack = await startSupabaseStack();
const SECRET = "test-secret-key-0123456789";
const ADMIN = "admin-password-for-tests";
const KEY = "AIzaFAKE-TEST-key-000000000000000000001";

Deno.test("parseConfig() names every variable STORE=supabase is missing, hiding secrets", () => {
  const error = (() => {
    try {
      parseConfig({ STORE: "supabase", SUPABASE_SERVICE_ROLE_KEY: "short" });
    } catch (e) {
      return e as Error;
    }
  })();
  assert(error, "refused");
  assertStringIncludes(error.message, "SUPABASE_SERVICE_ROLE_KEY");
  assert(!error.message.includes('"short"'), "the key's value is not shown");
  const missing = (() => {
    try {
      parseConfig({ STORE: "supabase" });
    } catch (e) {
      return (e as Error).message;
    }
  })() ?? "";
  for (const name of ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SECRET_KEY"]) {
    assertStringIncludes(missing, `${name}: is required when STORE is supabase`);
  }
  const config = parseConfig({
    STORE: "supabase",
    SUPABASE_URL: "https://abcd1234.supabase.co/",
    SUPABASE_SERVICE_ROLE_KEY: "service-role-key-for-tests",
    SECRET_KEY: SECRET,
  });
  assertEquals(
    [config.store, config.supabaseUrl, config.supabaseServiceRoleKey],
    ["supabase", "https://abcd1234.supabase.co", "service-role-key-for-tests"],
  );
});

Deno.test("a token created in the Deno console with STORE=supabase is enforced by the Edge Function", async () => {
  const project = await stack.createProject();
  const fake = await startFakeUpstream();
  const env = {
    SUPABASE_URL: project.url,
    SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
  };
  const console = await startServer(
    { ...env, STORE: "supabase", PORT: "0", ADMIN_PASSWORD: ADMIN, GEMINI_API_KEYS: KEY },
    { logSink: () => {}, assets: null },
  );
  const fn = await startFunctionProcess(env);
  try {
    const health = await (await fetch(`${console.url}/healthz`)).json();
    assertEquals([health.store.kind, health.keys.enabled], ["supabase", 1]);

    const created = await fetch(`${console.url}/admin/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "mobile app", limits: { rpm: 2 } }),
    });
    assertEquals(created.status, 201);
    const { secret, token } = await created.json();
    // The documented bound: a change reaches every instance sharing the store within a second.
    await sleepUntil(Date.now() + 1000);

    const generate = () =>
      fetch(`${fn.origin}/functions/v1/proxy/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": secret, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
      });
    // The function counts rpm on the real clock: the three requests fall in one minute.
    const statuses = await inOneMinute(async () => {
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await generate();
        await response.body?.cancel();
        seen.push(response.status);
      }
      return seen;
    });
    assertEquals(statuses, [200, 200, 429], "the function charged the console's limits");
    assertEquals(fake.requests.at(-1)?.key, KEY, "the key the console imported went upstream");

    // The function writes its logs in the background; the console lists them.
    const logs = await pollUntil(async () => {
      const page = await fetch(`${console.url}/admin/api/logs?tokenId=${token.id}`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      return (await page.json()).logs as { tokenId: string; status: number }[];
    }, { until: (logs) => logs.length >= 3, what: "the function's three log records" });
    assertEquals(logs.map((l) => l.status).sort(), [200, 200, 429]);
  } finally {
    await fn.close();
    await console.close();
    await fake.close();
    await project.close();
  }
});

Deno.test("supabase shared store: the test PostgreSQL stops", () => stack.close());
