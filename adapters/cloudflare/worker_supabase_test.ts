/**
 * `STORE=supabase` on the Worker: the bundled Worker in workerd reaches the Supabase store over
 * HTTP (the PostgREST-compatible shim in front of real PostgreSQL, see tests/support/) and shares
 * it with a Deno deployment serving the admin API: tokens and keys created there are enforced by
 * the Worker, and the Worker's logs are listed there.
 * @module
 */
import { assertEquals } from "../../tests/support/assert.ts";
import { startFakeUpstream } from "../../tests/support/fake_upstream/mod.ts";
import { startSupabaseStack } from "../../tests/support/supabase_stack.ts";
import { startServer } from "../deno/server.ts";
import { startWorker } from "./_workerd.ts";
import { inOneMinute, pollUntil, sleepUntil } from "../../tests/support/wall_clock.ts";

const stack = await startSupabaseStack();
const SECRET = "test-secret-key-0123456789";
const ADMIN = "admin-password-for-tests";
const KEY = "AIzaFAKE-TEST-key-000000000000000000001";

Deno.test("cloudflare worker with STORE=supabase enforces the console's tokens and its logs reach the console", async () => {
  const project = await stack.createProject();
  const fake = await startFakeUpstream();
  const shared = {
    STORE: "supabase",
    SUPABASE_URL: project.url,
    SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
  };
  const console = await startServer(
    { ...shared, PORT: "0", ADMIN_PASSWORD: ADMIN, GEMINI_API_KEYS: KEY },
    { logSink: () => {}, assets: null },
  );
  const worker = await startWorker({ bindings: shared, colo: "FRA" });
  try {
    const createToken = async (limits: Record<string, number>) => {
      const created = await fetch(`${console.url}/admin/api/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "edge app", limits }),
      });
      assertEquals(created.status, 201);
      return (await created.json()) as { secret: string; token: { id: string } };
    };
    const generate = (secret: string) =>
      fetch(`${worker.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": secret, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
      });

    const health = await (await fetch(`${worker.url}/healthz`)).json();
    assertEquals([health.store.kind, health.keys.enabled, health.region], ["supabase", 1, "FRA"]);

    const limited = await createToken({ rpm: 2 });
    // A second after the change the Worker checks the store before serving: the token is known.
    await sleepUntil(Date.now() + 1000);
    // The rpm window is the real clock's minute: the three requests fall in one.
    const statuses = await inOneMinute(async () => {
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await generate(limited.secret);
        await response.body?.cancel();
        seen.push(response.status);
      }
      return seen;
    });
    assertEquals(statuses, [200, 200, 429], "the Worker charged the console's limits");
    assertEquals(fake.requests.at(-1)?.key, KEY, "the key the console imported went upstream");

    // A token created now reaches the busy Worker within the same second.
    const later = await createToken({});
    await sleepUntil(Date.now() + 1000);
    const response = await generate(later.secret);
    await response.body?.cancel();
    assertEquals(response.status, 200, "the Worker picked up the new token on the first request");

    // The Worker writes its logs in the background; the console lists them.
    const logs = await pollUntil(async () => {
      const page = await fetch(`${console.url}/admin/api/logs?tokenId=${limited.token.id}`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      return (await page.json()).logs as { status: number; region: string }[];
    }, { until: (logs) => logs.length >= 3, what: "the Worker's three log records" });
    assertEquals(logs.map((l) => [l.status, l.region]).sort(), [
      [200, "FRA"],
      [200, "FRA"],
      [429, "FRA"],
    ]);
  } finally {
    await worker.close();
    await console.close();
    await fake.close();
    await project.close();
  }
});

Deno.test("cloudflare worker with STORE=supabase: the test PostgreSQL stops", () => stack.close());
