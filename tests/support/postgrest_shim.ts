/**
 * A small PostgREST-compatible HTTP server in front of a real PostgreSQL, for tests only.
 *
 * PostgREST (which serves `/rest/v1` on Supabase) has no package in this build environment, so
 * supabase-js is tested against this shim. It implements just what the store sends, the way
 * PostgREST does it:
 *
 * - `POST /rest/v1/rpc/<function>` with a JSON object of named arguments. The arguments are
 *   bound with `json_to_record`, the function is called in `public`, and its result comes back as
 *   JSON: a set as an array, `void` as `204 No Content`, anything else as its JSON value. Stable
 *   functions run in a read-only transaction.
 * - `GET /rest/v1/<table>?select=*` (optionally `&limit=N`): the rows as a JSON array.
 *
 * Authentication is enforced as on Supabase: the `apikey` header must hold a JWT signed with the
 * project's secret (HS256); the `Authorization: Bearer` JWT (or the apikey) decides the database
 * role. Each request runs in its own transaction after `SET LOCAL ROLE <role>` and with
 * `request.jwt.claims` set, on a connection logged in as the `authenticator` role, so the
 * privileges and row-level security of `anon`, `authenticated` and `service_role` apply exactly.
 * Errors use PostgREST's shape (`{code, message, details, hint}`) and HTTP statuses.
 * @module
 */
// @ts-types="npm:@types/pg@^8.23.1"
import pg from "pg";

/** Roles a JWT may name. */
const ROLES = new Set(["anon", "authenticated", "service_role"]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options of {@linkcode startPostgrestShim}. */
export interface PostgrestShimOptions {
  /** Connection string of the login role (normally `authenticator`). */
  connectionString: string;
  /** Secret the project's JWTs are signed with. */
  jwtSecret: string;
  /** Connections in the pool (default 20). */
  poolSize?: number;
  /**
   * Milliseconds added to every request before it is served, standing for the network between a
   * function and its database (default 0; benchmarks use 50).
   */
  delayMs?: number;
}

/** A running shim. */
export interface PostgrestShim {
  /** Base URL to give supabase-js, e.g. `http://127.0.0.1:54321`. */
  url: string;
  /** Requests served so far. */
  readonly requests: number;
  /** Calls of one function (`POST /rest/v1/rpc/<name>`) served so far. */
  calls(name: string): number;
  /** Stops serving and closes the pool. */
  close(): Promise<void>;
}

interface FunctionInfo {
  name: string;
  args: { name: string; type: string }[];
  required: number;
  returnsSet: boolean;
  returnsVoid: boolean;
  readOnly: boolean;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

/**
 * Starts the shim on a free loopback port.
 * @param options Database, JWT secret and pool size.
 * @returns The running shim.
 */
export async function startPostgrestShim(options: PostgrestShimOptions): Promise<PostgrestShim> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 20,
  });
  pool.on("error", () => {/* a dropped idle connection is replaced on next use */});
  const key = await hmacKey(options.jwtSecret);
  const functions = new Map<string, FunctionInfo[]>();
  const calls = new Map<string, number>();
  let requests = 0;

  async function lookup(name: string): Promise<FunctionInfo[]> {
    const cached = functions.get(name);
    if (cached) return cached;
    const { rows } = await pool.query<{
      names: string[] | null;
      types: string[];
      defaults: number;
      retset: boolean;
      void: boolean;
      volatility: string;
    }>(
      `select p.proargnames as names,
              array(select format_type(t.oid, null)
                      from unnest(p.proargtypes::oid[]) with ordinality as t(oid, n)
                     order by t.n) as types,
              p.pronargdefaults as defaults,
              p.proretset as retset,
              p.prorettype = 'void'::regtype as void,
              p.provolatile as volatility
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname = $1`,
      [name],
    );
    const infos = rows.map((row) => ({
      name,
      args: row.types.map((type, i) => ({ name: row.names?.[i] ?? "", type })),
      required: row.types.length - row.defaults,
      returnsSet: row.retset,
      returnsVoid: row.void,
      readOnly: row.volatility !== "v",
    }));
    functions.set(name, infos);
    return infos;
  }

  async function inTransaction(
    role: string,
    claims: Record<string, unknown>,
    readOnly: boolean,
    sql: string,
    params: unknown[],
  ): Promise<string | null> {
    const client = await pool.connect();
    try {
      await client.query(
        `begin isolation level read committed ${readOnly ? "read only" : "read write"}; ` +
          `set local role ${role};`,
      );
      await client.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify(claims),
      ]);
      const result = await client.query<{ body: string | null }>(sql, params);
      await client.query("commit");
      return result.rows[0]?.body ?? null;
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async function callFunction(
    name: string,
    body: Record<string, unknown>,
    role: string,
    claims: Record<string, unknown>,
  ): Promise<Response> {
    const given = Object.keys(body);
    const candidates = await lookup(name);
    const fn = candidates.find((f) =>
      given.every((arg) => f.args.some((a) => a.name === arg)) &&
      f.args.slice(0, f.required).every((a) => given.includes(a.name))
    );
    if (!fn) {
      throw new ApiError(404, {
        code: "PGRST202",
        message: `Could not find the function public.${name}(${
          given.join(", ")
        }) in the schema cache`,
        details: null,
        hint: null,
      });
    }
    const args = fn.args.filter((a) => given.includes(a.name));
    const call = `public.${quote(name)}(${
      args.map((a) => `${quote(a.name)} := _.${quote(a.name)}`).join(", ")
    })`;
    const source = args.length > 0
      ? ` from json_to_record($1::json) as _(${
        args.map((a) => `${quote(a.name)} ${a.type}`).join(", ")
      })`
      : "";
    const params = args.length > 0 ? [JSON.stringify(body)] : [];
    let sql: string;
    if (fn.returnsSet) {
      sql = args.length > 0
        ? `select coalesce(json_agg(_r), '[]')::text as body${source}, lateral ${call} as _r`
        : `select coalesce(json_agg(_r), '[]')::text as body from ${call} as _r`;
    } else if (fn.returnsVoid) {
      sql = `select ${call}::text as body${source}`;
    } else {
      sql = `select to_json(${call})::text as body${source}`;
    }
    const result = await inTransaction(role, claims, fn.readOnly, sql, params);
    if (fn.returnsVoid) return new Response(null, { status: 204 });
    return json(200, result ?? "null");
  }

  async function readTable(
    table: string,
    search: URLSearchParams,
    role: string,
    claims: Record<string, unknown>,
  ): Promise<Response> {
    for (const name of search.keys()) {
      if (name !== "select" && name !== "limit") {
        throw new ApiError(400, {
          code: "SHIM001",
          message: `The test shim supports only "select" and "limit", not "${name}"`,
          details: null,
          hint: null,
        });
      }
    }
    const select = search.get("select") ?? "*";
    const columns = select === "*" ? "*" : select.split(",").map((c) => {
      if (!IDENTIFIER.test(c)) {
        throw new ApiError(400, { code: "PGRST100", message: `Bad column "${c}"` });
      }
      return quote(c);
    }).join(", ");
    const limit = search.get("limit");
    const bounded = limit && /^\d+$/.test(limit) ? ` limit ${Number(limit)}` : "";
    const sql = `select coalesce(json_agg(_t), '[]')::text as body from (select ${columns} from ` +
      `public.${quote(table)}${bounded}) _t`;
    return json(200, await inTransaction(role, claims, true, sql, []) ?? "[]");
  }

  async function handle(request: Request): Promise<Response> {
    requests++;
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const url = new URL(request.url);
    const apikey = request.headers.get("apikey");
    if (!apikey) {
      return json(401, JSON.stringify({ message: "No API key found in request" }));
    }
    const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    const apikeyClaims = await verifyJwt(apikey, key);
    const claims = bearer ? await verifyJwt(bearer, key) : apikeyClaims;
    if (!apikeyClaims || !claims) {
      return json(401, JSON.stringify({ message: "Invalid API key" }));
    }
    const role = String(claims.role ?? "");
    if (!ROLES.has(role)) {
      return json(401, JSON.stringify({ code: "PGRST301", message: `Unknown role "${role}"` }));
    }
    try {
      const rpc = url.pathname.match(/^\/rest\/v1\/rpc\/([A-Za-z_][A-Za-z0-9_]*)$/);
      if (rpc) {
        if (request.method !== "POST") {
          throw new ApiError(405, { message: "The test shim calls functions with POST only" });
        }
        calls.set(rpc[1]!, (calls.get(rpc[1]!) ?? 0) + 1);
        const text = await request.text();
        const body = text.trim() === "" ? {} : JSON.parse(text);
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          throw new ApiError(400, { code: "PGRST102", message: "Arguments must be an object" });
        }
        return await callFunction(rpc[1]!, body, role, claims);
      }
      const table = url.pathname.match(/^\/rest\/v1\/([A-Za-z_][A-Za-z0-9_]*)$/);
      if (table && request.method === "GET") {
        return await readTable(table[1]!, url.searchParams, role, claims);
      }
      throw new ApiError(404, { message: `The test shim does not serve ${url.pathname}` });
    } catch (error) {
      if (error instanceof ApiError) return json(error.status, JSON.stringify(error.body));
      if (error instanceof SyntaxError) {
        return json(400, JSON.stringify({ code: "PGRST102", message: "Invalid JSON body" }));
      }
      const e = error as { code?: string; message?: string; detail?: string; hint?: string };
      return json(
        httpStatus(e.code, role),
        JSON.stringify({
          code: e.code ?? null,
          message: e.message ?? String(error),
          details: e.detail ?? null,
          hint: e.hint ?? null,
        }),
      );
    }
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    calls: (name) => calls.get(name) ?? 0,
    async close() {
      await server.shutdown();
      await pool.end();
    },
  };
}

/**
 * Signs a JWT with HS256, as Supabase signs its `anon` and `service_role` keys.
 * @param claims Payload, e.g. `{ role: "service_role" }`.
 * @param secret The project's JWT secret.
 */
export async function signJwt(claims: Record<string, unknown>, secret: string): Promise<string> {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    new TextEncoder().encode(`${header}.${payload}`),
  );
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

/** The status PostgREST answers a PostgreSQL error with. */
function httpStatus(code: string | undefined, role: string): number {
  if (!code) return 500;
  if (code === "42501") return role === "anon" ? 401 : 403;
  if (code === "42883" || code === "42P01") return 404;
  if (code === "23505" || code === "23503") return 409;
  if (code === "25006") return 405;
  if (code === "P0001" || code.startsWith("22") || code.startsWith("23")) return 400;
  if (code.startsWith("53") || code.startsWith("57")) return 503;
  if (code.startsWith("42")) return 400;
  return 500;
}

async function verifyJwt(
  token: string,
  key: CryptoKey,
): Promise<Record<string, unknown> | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const ok = await crypto.subtle.verify(
      "HMAC",
      key,
      fromBase64url(signature),
      new TextEncoder().encode(`${header}.${payload}`),
    );
    if (!ok) return null;
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
    if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) return null;
    return claims;
  } catch {
    return null;
  }
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function json(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function base64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "=".repeat((4 - text.length % 4) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
