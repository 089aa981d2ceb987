/**
 * Only the service role reaches the proxy's data: `anon` and `authenticated` can read no table
 * and call no function, directly in SQL or through supabase-js (the PostgREST-compatible shim
 * switches roles as PostgREST does), although Supabase's default grants would give them
 * everything in `public`.
 * @module
 */
import { createClient } from "@supabase/supabase-js";
import { assert, assertEquals } from "../support/assert.ts";
import { startSupabaseStack, type SupabaseProject, withClient } from "../support/supabase_stack.ts";
import { createServiceClient } from "../../core/store/supabase/supabase_client.ts";
import { createSupabaseStore } from "../../core/store/supabase/supabase_store.ts";

const stack = await startSupabaseStack();

const TABLES = [
  "gp_affinity",
  "gp_aggregate_batches",
  "gp_aggregates",
  "gp_auth_throttle",
  "gp_cooldowns",
  "gp_counters",
  "gp_key_states",
  "gp_key_usage",
  "gp_keys",
  "gp_leases",
  "gp_logs",
  "gp_meta",
  "gp_settings",
  "gp_token_last_used",
  "gp_token_usage",
  "gp_tokens",
];

async function withProject(fn: (project: SupabaseProject) => Promise<void>): Promise<void> {
  const project = await stack.createProject();
  try {
    await fn(project);
  } finally {
    await project.close();
  }
}

/** The proxy's tables as the catalog lists them, with their RLS flag and policy count. */
async function catalog(url: string): Promise<{ name: string; rls: boolean; policies: number }[]> {
  return await withClient(url, async (db) =>
    (await db.query(
      `select c.relname as name, c.relrowsecurity as rls,
              (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' and c.relname like 'gp\\_%'
        order by c.relname`,
    )).rows);
}

Deno.test("every proxy table has row-level security on and no policy", () =>
  withProject(async (project) => {
    const tables = await catalog(project.databaseUrl);
    assertEquals(tables.map((t) => t.name), TABLES);
    for (const table of tables) {
      assertEquals([table.name, table.rls, table.policies], [table.name, true, 0]);
    }
  }));

Deno.test("anon and authenticated can read no proxy table and call no proxy function in SQL", () =>
  withProject(async (project) => {
    const tables = (await catalog(project.databaseUrl)).map((t) => t.name);
    await withClient(project.databaseUrl.replace("postgres@", "authenticator@"), async (db) => {
      for (const role of ["anon", "authenticated"]) {
        for (const table of tables) {
          await db.query(`begin; set local role ${role}`);
          const error = await db.query(`select * from public.${table} limit 1`)
            .then(() => null, (e: { code?: string }) => e);
          await db.query("rollback");
          assertEquals([role, table, error?.code], [role, table, "42501"]);
        }
        const callable = await db.query(
          `select p.oid::regprocedure::text as fn from pg_proc p
             join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public' and p.proname like 'gp\\_%'
              and has_function_privilege($1, p.oid, 'execute')`,
          [role],
        );
        assertEquals(callable.rows, [], `${role} may execute none`);
        const sequences = await db.query(
          `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relname like 'gp\\_%'
              and case when c.relkind = 'S'
                then has_sequence_privilege($1, c.oid, 'usage, select, update') else false end`,
          [role],
        );
        assertEquals(sequences.rows, [], `${role} may use no sequence`);
      }
      // The service role reaches everything (so the refusals above are the grants at work).
      await db.query("begin; set local role service_role");
      for (const table of tables) await db.query(`select * from public.${table} limit 1`);
      await db.query("rollback");
    });
  }));

Deno.test("through supabase-js the anon key reads no table and calls no function", () =>
  withProject(async (project) => {
    const store = createSupabaseStore(createServiceClient(project.url, project.serviceRoleKey));
    await store.addKey({
      id: "k1",
      sealed: "v1.sealed.k1",
      masked: "AIza...TEST",
      enabled: true,
      source: "env",
      createdAt: 1,
    });
    const anon = createClient(project.url, project.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
    });
    for (const table of TABLES) {
      const { data, error, status } = await anon.from(table).select("*");
      assertEquals([table, data, status, error?.code], [table, null, 401, "42501"]);
    }
    for (const fn of ["gp_list_keys", "gp_version", "gp_get_settings"]) {
      const { data, error } = await anon.rpc(fn);
      assertEquals([fn, data, error?.code], [fn, null, "42501"]);
    }
    const lease = await anon.rpc("gp_take_leases", {
      p_requests: [{ counter: "t", window: "m1", settle: -5, want: 1, cap: 1, expiresAt: 9 }],
      p_now: 1,
    });
    assertEquals(lease.error?.code, "42501");
    // The same request with the service role key sees the key: the shim serves tables.
    const service = createServiceClient(project.url, project.serviceRoleKey);
    const { data } = await service.from("gp_keys").select("id");
    assertEquals(data, [{ id: "k1" }]);
    assert((await store.listKeys()).length === 1);
  }));

Deno.test("a key signed with another secret is refused before any query", () =>
  withProject(async (project) => {
    const forged = project.anonKey.replace(/\.[^.]+$/, ".AAAA");
    const client = createClient(project.url, forged, {
      auth: { persistSession: false, autoRefreshToken: false },
    });
    const { error, status } = await client.from("gp_keys").select("*");
    assertEquals([status, error?.message], [401, "Invalid API key"]);
  }));

Deno.test("supabase access: the test PostgreSQL stops", () => stack.close());
