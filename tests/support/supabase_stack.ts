/**
 * A local stand-in for a Supabase project, for tests: real PostgreSQL (see
 * `embedded_postgres.ts`) with Supabase's roles and default grants, the migrations of
 * `supabase/migrations/` applied, and the PostgREST-compatible shim (`postgrest_shim.ts`) in
 * front, with `anon` and `service_role` JWTs signed like a project's API keys.
 *
 * One server serves a whole test file; each {@linkcode SupabaseStack.createProject} clones a
 * migrated template database, so every test starts from an empty store in a few milliseconds.
 * @module
 */
// @ts-types="npm:@types/pg@^8.23.1"
import pg from "pg";
import { type PostgresServer, startPostgres } from "./embedded_postgres.ts";
import { type PostgrestShim, signJwt, startPostgrestShim } from "./postgrest_shim.ts";

const TEMPLATE = "gp_template";
const JWT_SECRET = "test-jwt-secret-with-at-least-32-characters";

/**
 * What Supabase sets up in every project before user migrations run: the API roles, the
 * `authenticator` login that switches to them, and default privileges that grant the API roles
 * everything created in `public` (which the migrations must take back).
 */
const SUPABASE_ROLES = `
  create role anon nologin noinherit;
  create role authenticated nologin noinherit;
  create role service_role nologin noinherit bypassrls;
  create role authenticator login noinherit;
  grant anon, authenticated, service_role to authenticator;
`;
const SUPABASE_GRANTS = `
  grant usage on schema public to anon, authenticated, service_role;
  alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
  alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
  alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
`;

/** A fresh project: its own database and shim. */
export interface SupabaseProject {
  /** Base URL for supabase-js (`SUPABASE_URL`). */
  url: string;
  /** The `service_role` API key. */
  serviceRoleKey: string;
  /** The `anon` API key. */
  anonKey: string;
  /** Superuser connection string of the project's database. */
  databaseUrl: string;
  /** The shim serving it. */
  shim: PostgrestShim;
  /** Stops the shim and drops the database. */
  close(): Promise<void>;
}

/** The server shared by a test file. */
export interface SupabaseStack {
  /** The PostgreSQL server. */
  postgres: PostgresServer;
  /** Milliseconds it took to start PostgreSQL and migrate the template. */
  startMs: number;
  /**
   * A new, empty, migrated database behind its own shim (`delayMs`: added to every request, see
   * `PostgrestShimOptions`).
   */
  createProject(options?: { poolSize?: number; delayMs?: number }): Promise<SupabaseProject>;
  /** Stops PostgreSQL. */
  close(): Promise<void>;
}

/**
 * Starts PostgreSQL, creates Supabase's roles and a template database with the migrations.
 * @returns The stack.
 * @throws {Error} When PostgreSQL cannot start or a migration fails.
 */
export async function startSupabaseStack(): Promise<SupabaseStack> {
  const started = performance.now();
  const postgres = await startPostgres();
  try {
    await withClient(postgres.url(), async (client) => {
      await client.query(SUPABASE_ROLES);
      await client.query(`create database ${TEMPLATE}`);
    });
    await withClient(postgres.url(TEMPLATE), async (client) => {
      await client.query(SUPABASE_GRANTS);
      for (const file of await migrationFiles()) {
        try {
          await client.query(await Deno.readTextFile(file));
        } catch (error) {
          throw new Error(`Migration ${file} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
    });
  } catch (error) {
    await postgres.close();
    throw error;
  }
  const startMs = performance.now() - started;
  let projects = 0;
  const [serviceRoleKey, anonKey] = await Promise.all([
    signJwt({ role: "service_role", iss: "supabase-test" }, JWT_SECRET),
    signJwt({ role: "anon", iss: "supabase-test" }, JWT_SECRET),
  ]);

  return {
    postgres,
    startMs,
    async createProject(options = {}) {
      const database = `gp_project_${++projects}`;
      await withClient(
        postgres.url(),
        (client) => client.query(`create database ${database} template ${TEMPLATE}`),
      );
      const shim = await startPostgrestShim({
        connectionString: postgres.url(database, "authenticator"),
        jwtSecret: JWT_SECRET,
        ...(options.poolSize ? { poolSize: options.poolSize } : {}),
        ...(options.delayMs ? { delayMs: options.delayMs } : {}),
      });
      return {
        url: shim.url,
        serviceRoleKey,
        anonKey,
        databaseUrl: postgres.url(database),
        shim,
        async close() {
          await shim.close();
          await withClient(
            postgres.url(),
            (client) => client.query(`drop database ${database} with (force)`),
          );
        },
      };
    },
    close: () => postgres.close(),
  };
}

/**
 * Runs `fn` with a connected client and always disconnects it (tests keep no idle connection,
 * so Deno's sanitizers see nothing left open).
 * @param url Connection string.
 * @param fn Work to do.
 */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The migration files, in the order Supabase applies them (by name). */
export async function migrationFiles(): Promise<string[]> {
  const dir = new URL("../../supabase/migrations/", import.meta.url);
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".sql")) names.push(entry.name);
  }
  return names.sort().map((name) => new URL(name, dir).pathname);
}
