/**
 * The SQL functions of `supabase/migrations/`, called directly on real PostgreSQL as the
 * `service_role` (the role PostgREST switches to for the service role key): quota charges under
 * real concurrency (one connection per caller), cooldowns, retention and the guards on what may
 * be stored.
 * @module
 */
// @ts-types="npm:@types/pg@^8.23.1"
import pg from "pg";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { startSupabaseStack, type SupabaseProject, withClient } from "../support/supabase_stack.ts";
import { tokenWindows } from "../../core/tokens/token_limits.ts";

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

function chargeArgs(tokenId: string, at: number, limits: { rpm?: number; rpd?: number }) {
  const w = tokenWindows(at);
  return [tokenId, w.minute, w.day, w.month, at, limits.rpm ?? null, limits.rpd ?? null];
}
const CHARGE = "select public.gp_charge_token($1, $2, $3, $4, $5, $6, $7) as r";

Deno.test("gp_charge_token: 100 concurrent charges on 100 connections with rpm 10 admit exactly 10", () =>
  withProject(async (project) => {
    const clients = await serviceConnections(project, 100);
    try {
      const started = performance.now();
      const results = await Promise.all(
        clients.map((c) => c.query(CHARGE, chargeArgs("t1", AT, { rpm: 10 }))),
      );
      const elapsed = performance.now() - started;
      const admitted = results.filter((r) => r.rows[0].r.ok).length;
      console.log(`100 concurrent charges: ${admitted} admitted in ${Math.round(elapsed)} ms`);
      assertEquals(admitted, 10);
      const counts = await clients[0]!.query(
        "select public.gp_read_token_usage($1, $2, $3, $4) as u",
        chargeArgs("t1", AT, {}).slice(0, 4),
      );
      assertEquals(counts.rows[0].u.minuteRequests, 10);
      assertEquals(counts.rows[0].u.monthRequests, 10);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }));

Deno.test("gp_charge_token: concurrent charges and usage writes on one token never deadlock", () =>
  withProject(async (project) => {
    const clients = await serviceConnections(project, 40);
    try {
      const w = tokenWindows(AT);
      const usage = JSON.stringify([w.minute, w.day, w.month].map((period) => ({
        tokenId: "t1",
        period,
        requests: 1,
        tokens: 5,
      })));
      const seen = JSON.stringify([{ tokenId: "t1", at: AT }]);
      const calls = clients.map((c, i) =>
        i % 2 === 0
          ? c.query(CHARGE, chargeArgs("t1", AT, { rpd: 15 }))
          : c.query("select public.gp_add_token_usage($1, $2)", [usage, seen])
      );
      const results = await Promise.all(calls);
      const admitted = results.filter((r, i) => i % 2 === 0 && r.rows[0].r.ok).length;
      // 20 usage writes add 20 requests; charges run interleaved with them, and each is admitted
      // only while the day's count (charges + writes so far) is under 15.
      const day = await clients[0]!.query(
        "select requests, tokens from public.gp_token_usage where token_id = 't1' and period = $1",
        [w.day],
      );
      assertEquals(Number(day.rows[0].requests), 20 + admitted);
      assertEquals(Number(day.rows[0].tokens), 100);
      assert(admitted <= 15);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
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
        [tokenWindows(old).minute],
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
