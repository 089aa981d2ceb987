/**
 * The SQL functions of `supabase/migrations/`, called directly on real PostgreSQL as the
 * `service_role` (the role PostgREST switches to for the service role key): limit leases under
 * real concurrency (one connection per caller), cooldowns, retention and the guards on what may
 * be stored.
 * @module
 */
// @ts-types="npm:@types/pg@^8.23.1"
import pg from "pg";
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startSupabaseStack, type SupabaseProject, withClient } from "../support/supabase_stack.ts";
import { windowNames } from "../../core/store/mod.ts";

const stack = await startSupabaseStack();
console.log(`PostgreSQL started and migrated in ${Math.round(stack.startMs)} ms`);

const AT = Date.parse("2026-01-15T20:00:30Z");

/** `n` connections logged in as `authenticator` and switched to `service_role`. */
async function serviceConnections(project: SupabaseProject, n: number): Promise<pg.Client[]> {
  const url = project.databaseUrl.replace("postgres@", "authenticator@");
  return await Promise.all(Array.from({ length: n }, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("set role service_role");
    return client;
  }));
}

async function withProject(fn: (project: SupabaseProject) => Promise<void>): Promise<void> {
  const project = await stack.createProject();
  try {
    await fn(project);
  } finally {
    await project.close();
  }
}

const LEASE = "select public.gp_take_leases($1, $2) as r";

function lease(counter: string, want: number, cap: number, settle = 0) {
  return { counter, window: "m29474880", settle, want, cap, expiresAt: AT + 3_600_000 };
}

Deno.test("gp_take_leases: 100 concurrent leases on 100 connections never grant past the cap", () =>
  withProject(async (project) => {
    const clients = await serviceConnections(project, 100);
    try {
      const started = performance.now();
      const results = await Promise.all(
        clients.map((c, i) => c.query(LEASE, [JSON.stringify([lease("c", 1 + (i % 3), 50)]), AT])),
      );
      const elapsed = performance.now() - started;
      const granted = results.map((r) => r.rows[0].r[0].granted as number);
      console.log(
        `100 concurrent leases: ${granted.filter((g) => g > 0).length} granted in ${
          Math.round(elapsed)
        } ms`,
      );
      assertEquals(granted.reduce((a, b) => a + b, 0), 50);
      const after = await clients[0]!.query(LEASE, [JSON.stringify([lease("c", 0, 50)]), AT]);
      assertEquals(after.rows[0].r, [{ granted: 0, used: 50 }]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }));

Deno.test("gp_take_leases: calls naming counters in opposite orders never deadlock", () =>
  withProject(async (project) => {
    const clients = await serviceConnections(project, 40);
    try {
      const names = ["a", "b", "c", "d"];
      const results = await Promise.all(clients.map((c, i) => {
        const order = i % 2 ? [...names].reverse() : names;
        const requests = order.map((n) => lease(n, 1, 15, i % 4 === 0 ? 1 : 0));
        return c.query(LEASE, [JSON.stringify(requests), AT]);
      }));
      const totals = await clients[0]!.query(
        "select counter, used from public.gp_leases order by counter",
      );
      for (const [j, name] of names.entries()) {
        const granted = results.reduce((sum, r, i) => {
          const position = i % 2 ? names.length - 1 - j : j;
          return sum + (r.rows[0].r[position].granted as number);
        }, 0);
        const used = Number(totals.rows.find((row) => row.counter === name)?.used);
        // Grants stop at 15; the 10 settlements of one unit each count whatever the cap.
        assert(granted <= 15, `${name}: granted ${granted}`);
        assertEquals(used, granted + 10, name);
        assert(used >= 15);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }));

Deno.test("gp_take_leases: a call answers in request order and drops expired counters", () =>
  withProject(async (project) => {
    await withClient(project.databaseUrl, async (db) => {
      const first = await db.query(LEASE, [
        JSON.stringify([lease("x", 3, 4), lease("x", 3, 4), lease("x", 1, 4, -2)]),
        AT,
      ]);
      assertEquals(first.rows[0].r, [
        { granted: 3, used: 3 },
        { granted: 1, used: 4 },
        { granted: 1, used: 3 },
      ]);
      const later = AT + 2 * 3_600_000;
      await db.query(LEASE, [
        JSON.stringify([{ ...lease("y", 1, 4), expiresAt: later + 1 }]),
        later,
      ]);
      const left = await db.query("select counter from public.gp_leases order by counter");
      assertEquals(left.rows.map((r) => r.counter), ["y"]);
      const gone = await db.query(
        "select to_regprocedure('public.gp_charge_token(text, text, text, text, bigint, bigint, bigint, bigint, bigint, bigint)') as f",
      );
      assertEquals(gone.rows[0].f, null, "the per-request charge function is gone");
    });
  }));

Deno.test("gp_set_cooldown: among concurrent cooldowns the latest end wins", () =>
  withProject(async (project) => {
    const clients = await serviceConnections(project, 30);
    try {
      const ends = clients.map((_, i) => AT + 1000 * ((i * 7) % 30 + 1));
      await Promise.all(
        clients.map((c, i) =>
          c.query("select public.gp_set_cooldown('k:a', 'm', $1, 'rpm', $2)", [ends[i], AT])
        ),
      );
      const listed = await clients[0]!.query("select public.gp_list_cooldowns($1) as l", [AT]);
      assertEquals(listed.rows[0].l, [{
        scope: "k:a",
        model: "m",
        until: Math.max(...ends),
        reason: "rpm",
      }]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }));

Deno.test("gp_insert_logs: prunes expired logs, old buckets and windows at most once a minute", () =>
  withProject(async (project) => {
    await withClient(project.databaseUrl, async (db) => {
      const record = (id: string, time: number) => ({ id, time, status: 200, stream: false });
      const old = AT - 40 * 86_400_000;
      await db.query("select public.gp_insert_logs($1, $2, $3, $4)", [
        JSON.stringify([record("0old", old)]),
        JSON.stringify([{
          granularity: "m",
          bucket: old,
          keyId: "k",
          model: "m",
          tokenId: "t",
          field: "requests",
          value: 1,
        }]),
        old + 86_400_000,
        old,
      ]);
      await db.query(
        "insert into public.gp_token_usage (token_id, period, requests) values ('t', $1, 1)",
        [windowNames(old).minute],
      );
      // A minute has passed since the first call's prune: this one prunes.
      await db.query("select public.gp_insert_logs($1, '[]', $2, $3)", [
        JSON.stringify([record("1new", AT)]),
        AT + 86_400_000,
        AT,
      ]);
      const left = await db.query(
        `select (select count(*) from public.gp_logs)::int as logs,
                (select count(*) from public.gp_aggregates)::int as aggregates,
                (select count(*) from public.gp_token_usage)::int as windows`,
      );
      assertEquals(left.rows[0], { logs: 1, aggregates: 0, windows: 0 });
      // Within the minute, nothing is pruned even when it has expired.
      await db.query("select public.gp_insert_logs($1, '[]', $2, $3)", [
        JSON.stringify([record("2soon", AT)]),
        AT + 1,
        AT + 1000,
      ]);
      await db.query("select public.gp_insert_logs('[]', '[]', 0, $1)", [AT + 30_000]);
      const count = await db.query("select count(*)::int as n from public.gp_logs");
      assertEquals(count.rows[0].n, 2);
      const forced = await db.query("select public.gp_prune($1, true) as r", [AT + 30_000]);
      assertEquals(forced.rows[0].r.logs, 1);
    });
  }));

Deno.test("gp_keys refuses a key stored in clear; gp_tokens refuses a secret", () =>
  withProject(async (project) => {
    await withClient(project.databaseUrl, async (db) => {
      const clear = { id: "k1", sealed: "AIzaFAKE-TEST-clear-key", masked: "x", createdAt: 1 };
      const error = await db.query("select public.gp_add_key($1)", [JSON.stringify(clear)])
        .then(() => null, (e: Error) => e);
      assertStringIncludes(String(error), "gp_keys_sealed_only");
      const token = { id: "t1", hash: "h", secret: "gp-clear", createdAt: 1 };
      const refused = await db.query("select public.gp_add_token($1)", [JSON.stringify(token)])
        .then(() => null, (e: Error) => e);
      assertStringIncludes(String(refused), "gp_tokens_hash_only");
    });
  }));

Deno.test("gp_version changes when keys are edited outside the app, e.g. in the dashboard", () =>
  withProject(async (project) => {
    await withClient(project.databaseUrl, async (db) => {
      await db.query("select public.gp_add_key($1)", [
        JSON.stringify({ id: "k1", sealed: "v1.a.b", enabled: true, createdAt: 1 }),
      ]);
      const before = (await db.query("select public.gp_version() as v")).rows[0].v;
      await db.query(
        `update public.gp_keys set record = jsonb_set(record, '{enabled}', 'false') where id = 'k1'`,
      );
      const after = (await db.query("select public.gp_version() as v")).rows[0].v;
      assert(after !== before, "a direct update bumps the version");
    });
  }));

Deno.test("gp_list_logs: a filter by model reads its index, not the whole table", () =>
  withProject(async (project) => {
    await withClient(project.databaseUrl, async (db) => {
      await db.query(
        `insert into public.gp_logs (id, record, expires_at)
         select lpad(i::text, 12, '0'), jsonb_build_object('id', lpad(i::text, 12, '0'),
                'time', i, 'status', 200, 'model', 'm' || (i % 50), 'stream', false), 1e15
           from generate_series(1, 20000) i`,
      );
      await db.query("analyze public.gp_logs");
      const plan = await db.query(
        `explain select id, record from public.gp_logs where expires_at > 0 and model = 'm7'
          order by id desc limit 51`,
      );
      const text = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
      assertStringIncludes(text, "gp_logs_model_idx");
    });
  }));

Deno.test("supabase sql: the test PostgreSQL stops", () => stack.close());
