/**
 * Every host meets the same bound, after real idleness: a token created or revoked through one
 * instance takes effect within a second on another instance that has been idle for 15 s, longer
 * than any of the hosts' background windows (the Edge Function stops syncing 10 s after its last
 * request; a Worker has no timers at all). Three pairs at once, so the wait is paid once:
 *
 * - two Deno processes on one KV file (this process, and `main.ts` in a child process);
 * - a Deno process and the Supabase Edge Function (its own process) on one Postgres;
 * - a Deno process and the bundled Worker in workerd on the same Postgres.
 * @module
 */
import { startServer } from "../adapters/deno/server.ts";
import { startWorker } from "../adapters/cloudflare/_workerd.ts";
import { assertEquals } from "./support/assert.ts";
import { startFakeUpstream } from "./support/fake_upstream/mod.ts";
import { SECRET, startChildProxy } from "./support/harness.ts";
import { startSupabaseStack } from "./support/supabase_stack.ts";
import { startFunctionProcess } from "./support/function_process.ts";
import {
  ADMIN,
  createToken,
  type IssuedToken,
  revokeToken,
  statusFor,
} from "./support/freshness_helpers.ts";
import { sleepUntil } from "./support/wall_clock.ts";

const stack = await startSupabaseStack();
const KEY = "AIzaFAKE-TEST-key-000000000000000000001";
/** Longer than every background window of every host. */
const IDLE_MS = 15_000;
/** The documented bound. */
const BOUND_MS = 1000;

/** An instance written through (`admin`) and the idle instances sharing its store. */
interface Pair {
  admin: string;
  idle: Record<string, string>;
}

Deno.test("a token created or revoked elsewhere takes effect within 1 s on Deno, Edge Function and Worker instances idle for 15 s", async () => {
  const project = await stack.createProject();
  const fake = await startFakeUpstream();
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-idle-" });
  const common = { SECRET_KEY: SECRET, UPSTREAM_URL: fake.url, ADMIN_PASSWORD: ADMIN };
  const postgres = {
    ...common,
    STORE: "supabase",
    SUPABASE_URL: project.url,
    SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
  };
  const kv = { ...common, KV_PATH: `${dir}/proxy.kv` };
  const quiet = { logSink: () => {}, assets: null };
  const adminPg = await startServer({ ...postgres, PORT: "0", GEMINI_API_KEYS: KEY }, quiet);
  const adminKv = await startServer({ ...kv, PORT: "0", GEMINI_API_KEYS: KEY }, quiet);
  const child = await startChildProxy(kv);
  const fn = await startFunctionProcess(postgres);
  const worker = await startWorker({ bindings: postgres });
  const pairs: Pair[] = [
    { admin: adminKv.url, idle: { "Deno process": child.url } },
    {
      admin: adminPg.url,
      idle: { "Edge Function": `${fn.origin}/functions/v1/proxy`, Worker: worker.url },
    },
  ];
  try {
    const old = await Promise.all(pairs.map((p) => createToken(p.admin, "old")));
    await sleepUntil(Date.now() + BOUND_MS);
    assertEquals(await statuses(pairs, old), allAre(200), "tokens created a second ago");

    await sleepUntil(Date.now() + IDLE_MS);
    const created = await Promise.all(pairs.map((p) => createToken(p.admin, "new")));
    await Promise.all(pairs.map((p, i) => revokeToken(p.admin, old[i]!.id)));
    await sleepUntil(Date.now() + BOUND_MS);

    // The first request each idle instance gets presents the revoked token.
    for (let i = 0; i < 3; i++) {
      assertEquals(await statuses(pairs, old), allAre(401), "revoked 1 s ago: refused");
    }
    assertEquals(await statuses(pairs, created), allAre(200), "created 1 s ago: accepted");
  } finally {
    await worker.close();
    await fn.close();
    await child.close();
    await adminKv.close();
    await adminPg.close();
    await fake.close();
    await project.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("idle instances: the test PostgreSQL stops", () => stack.close());

/** What every idle instance answers the token issued through its pair's admin. */
async function statuses(pairs: Pair[], tokens: IssuedToken[]): Promise<Record<string, number>> {
  const answers: Record<string, number> = {};
  for (const [i, pair] of pairs.entries()) {
    for (const [name, url] of Object.entries(pair.idle)) {
      answers[name] = await statusFor(url, tokens[i]!.secret);
    }
  }
  return answers;
}

function allAre(status: number): Record<string, number> {
  return { "Deno process": status, "Edge Function": status, Worker: status };
}
