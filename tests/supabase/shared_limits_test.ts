/**
 * Limits across platforms on one PostgreSQL: a Deno process and the bundled Cloudflare Worker
 * (real workerd) share one Supabase store (the PostgREST-compatible shim in front of real
 * PostgreSQL, see tests/support/) and take 100 concurrent requests split between them. Token rpm
 * and rpd, token tpd (with reservations) and key caps hold across both as in one process, and a
 * streamed OpenAI chat whose client did not ask for usage is charged on both.
 * @module
 */
import { createServiceClient } from "../../core/store/supabase/supabase_client.ts";
import { createSupabaseStore } from "../../core/store/supabase/supabase_store.ts";
import { startServer } from "../../adapters/deno/server.ts";
import { startWorker } from "../../adapters/cloudflare/_workerd.ts";
import { startFakeUpstream } from "../support/fake_upstream/mod.ts";
import { startSupabaseStack } from "../support/supabase_stack.ts";
import { SECRET } from "../support/harness.ts";
import {
  assertKeyCaps,
  assertOpenAiStreamCharged,
  assertTokenRequestLimits,
  assertTokenTpd,
  KEY_LIMITS,
  KEYS,
  OPEN_TOKEN,
  seedScenario,
} from "../support/limits_scenario.ts";

const stack = await startSupabaseStack();

Deno.test("a Deno process and a Worker on one PostgreSQL: token rpm, rpd, tpd and key caps hold across both; a usage-less OpenAI stream is charged", async () => {
  const project = await stack.createProject();
  const fake = await startFakeUpstream();
  const store = createSupabaseStore(createServiceClient(project.url, project.serviceRoleKey));
  await seedScenario(store);
  const shared = {
    STORE: "supabase",
    SUPABASE_URL: project.url,
    SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: KEYS.join(","),
    PROXY_TOKENS: OPEN_TOKEN,
    KEY_LIMITS,
    RETRY_BACKOFF_MS: "0",
    LOG_LEVEL: "warn",
  };
  const deno = await startServer({ ...shared, PORT: "0" }, { logSink: () => {}, assets: null });
  const worker = await startWorker({ bindings: shared });
  try {
    const bases: [string, string] = [deno.url, worker.url];
    await assertTokenRequestLimits(bases, fake);
    await assertTokenTpd(bases, fake);
    await assertKeyCaps(bases, fake);
    await assertOpenAiStreamCharged(bases, fake, store);
  } finally {
    await worker.close();
    await deno.close();
    await fake.close();
    await project.close();
  }
});

Deno.test("supabase shared limits: the test PostgreSQL stops", () => stack.close());
