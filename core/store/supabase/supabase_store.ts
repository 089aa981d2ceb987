/**
 * A {@linkcode Store} on Supabase: PostgreSQL reached through supabase-js, with every operation
 * a call to one of the `gp_*` SQL functions of `supabase/migrations/`. Each call is one
 * transaction on the server, so what must be atomic is: a lease locks its counter rows before it
 * reads them, a log batch and its aggregate counters commit together, a cooldown keeps the later
 * end.
 *
 * The module uses no Deno API: it runs wherever supabase-js runs (Deno, Supabase Edge Functions,
 * Cloudflare Workers), given a client that holds the service role key.
 * @module
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import {
  type AggregateRow,
  type AuthThrottleEntry,
  type CooldownRecord,
  fieldDeltas,
  type KeyRecord,
  type KeyStateRecord,
  type KeyUsageTotal,
  type LeaseGrant,
  type LogRecord,
  type LogStore,
  type Store,
  type TokenRecord,
  type TokenUsage,
  windowNames,
} from "../mod.ts";

/** Options of {@linkcode createSupabaseStore}. */
export interface SupabaseStoreOptions {
  /** Clock (epoch ms) for windows and expiry (default `Date.now`). */
  now?: () => number;
}

/** Largest log slice sent in one call (JSON characters), well under API gateway body limits. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Creates the store.
 * @param client A supabase-js client created with the service role key (see
 *   `createServiceClient`); `anon` and `authenticated` may not reach the tables.
 * @param options Injected clock.
 * @returns The store.
 * @example
 * ```ts
 * const client = createServiceClient(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
 * const store = createSupabaseStore(client);
 * ```
 */
export function createSupabaseStore(
  client: SupabaseClient,
  options: SupabaseStoreOptions = {},
): Store {
  const now = options.now ?? Date.now;
  async function call<T>(fn: string, args: Record<string, unknown> = {}): Promise<T> {
    const { data, error } = await client.rpc(fn, jsonSafe(args) as Record<string, unknown>);
    if (error) {
      const code = error.code ? ` (${error.code})` : "";
      throw new Error(`Supabase store: ${fn} failed: ${error.message}${code}`, { cause: error });
    }
    return data as T;
  }
  return {
    kind: "supabase",
    ...recordMethods(call, now),
    ...counterMethods(call),
    ...tokenMethods(call, now),
    ...logMethods(call, now),
    ...pinMethods(call, now),
    async ping() {
      await call<string>("gp_version");
    },
    close: () => Promise.resolve(),
  };
}

/** One call of a `gp_*` SQL function, its result as the caller types it. */
type Rpc = <T>(fn: string, args?: Record<string, unknown>) => Promise<T>;

/** The store methods on keys, tokens and cooldowns. */
type SupabaseRecords = Pick<
  Store,
  | "listKeys"
  | "addKey"
  | "addKeys"
  | "updateKey"
  | "setKeyEnabled"
  | "deleteKey"
  | "listTokens"
  | "addToken"
  | "updateToken"
  | "deleteToken"
  | "version"
  | "setCooldown"
  | "listCooldowns"
  | "cooldownVersion"
>;
/** The store methods on keys' counters. */
type SupabaseCounters = Pick<
  Store,
  "addKeyUsage" | "readKeyUsage" | "putKeyStates" | "listKeyStates"
>;
/** The store methods on tokens' counters and leases. */
type SupabaseTokens = Pick<Store, "addTokenUsage" | "readTokenUsage" | "takeLeases">;
/** The store methods on logs. */
type SupabaseLogs = LogStore;
/** The store methods on settings, pins and the sign-in throttle. */
type SupabasePins = Pick<
  Store,
  | "getSettings"
  | "putSettings"
  | "putAffinity"
  | "getAffinity"
  | "readAuthThrottle"
  | "writeAuthThrottle"
>;

/** Keys, tokens and cooldowns. */
function recordMethods(call: Rpc, now: () => number): SupabaseRecords {
  return {
    listKeys: () => call<KeyRecord[]>("gp_list_keys"),
    addKey: (record) => call<boolean>("gp_add_key", { p_record: record }),
    async addKeys(records) {
      // One insert per key (the SQL function's own conflict rule), a few dozen in flight.
      const added: string[] = [];
      for (let i = 0; i < records.length; i += 32) {
        const batch = records.slice(i, i + 32);
        const ok = await Promise.all(
          batch.map((r) => call<boolean>("gp_add_key", { p_record: r })),
        );
        batch.forEach((r, j) => ok[j] && added.push(r.id));
      }
      return added;
    },
    updateKey: (record) => call<boolean>("gp_update_key", { p_record: record }),
    setKeyEnabled: (id, enabled, detail = {}) =>
      call<KeyRecord | null>("gp_set_key_enabled", {
        p_id: id,
        p_enabled: enabled,
        p_reason: detail.reason ?? null,
        p_at: Math.floor(detail.at ?? now()),
      }),
    deleteKey: (id) => call<boolean>("gp_delete_key", { p_id: id }),
    listTokens: () => call<TokenRecord[]>("gp_list_tokens"),
    addToken: (record) => call<boolean>("gp_add_token", { p_record: record }),
    updateToken: (record) => call<boolean>("gp_update_token", { p_record: record }),
    deleteToken: (id) => call<boolean>("gp_delete_token", { p_id: id }),
    version: () => call<string>("gp_version"),
    async setCooldown(cooldown) {
      await call<boolean>("gp_set_cooldown", {
        p_scope: cooldown.scope,
        p_model: cooldown.model,
        p_until: Math.ceil(cooldown.until),
        p_reason: cooldown.reason,
        p_now: Math.floor(now()),
      });
    },
    listCooldowns: () => call<CooldownRecord[]>("gp_list_cooldowns", { p_now: Math.floor(now()) }),
    cooldownVersion: () => call<string>("gp_cooldown_version"),
  };
}

/** Keys' counters and states. */
function counterMethods(call: Rpc): SupabaseCounters {
  return {
    async addKeyUsage(deltas) {
      const rows = deltas.flatMap((d) =>
        usageWindows(d.at).map((period) => ({
          period,
          keyId: d.keyId,
          model: d.model,
          requests: Math.round(d.requests),
          tokens: Math.round(d.tokens),
        }))
      );
      if (rows.length > 0) await call<null>("gp_add_key_usage", { p_rows: rows });
    },
    readKeyUsage(at) {
      const [minute, day] = usageWindows(at);
      return call<KeyUsageTotal[]>("gp_read_key_usage", { p_minute: minute, p_day: day });
    },
    async putKeyStates(states) {
      const merged = new Map<string, KeyStateRecord>();
      for (const state of states) {
        merged.set(state.keyId, { ...merged.get(state.keyId), ...state });
      }
      if (merged.size > 0) {
        await call<null>("gp_put_key_states", { p_states: [...merged.values()] });
      }
    },
    listKeyStates: () => call<KeyStateRecord[]>("gp_list_key_states"),
  };
}

/** Tokens' counters and limit leases. */
function tokenMethods(call: Rpc, now: () => number): SupabaseTokens {
  return {
    async addTokenUsage(deltas) {
      const rows = deltas.flatMap((d) => {
        const w = windowNames(d.at);
        return [w.minute, w.day, w.month].map((period) => ({
          tokenId: d.tokenId,
          period,
          requests: Math.max(0, Math.round(d.requests)),
          tokens: Math.max(0, Math.round(d.tokens)),
          ...(period === w.month && d.costMicros ? { costMicros: Math.round(d.costMicros) } : {}),
        }));
      });
      const seen = deltas.filter((d) => d.requests > 0).map((d) => ({
        tokenId: d.tokenId,
        at: Math.floor(d.at),
      }));
      if (rows.length > 0) await call<null>("gp_add_token_usage", { p_rows: rows, p_seen: seen });
    },
    async readTokenUsage(tokenId, at) {
      const w = windowNames(at);
      const usage = await call<TokenUsage>("gp_read_token_usage", {
        p_token_id: tokenId,
        p_minute: w.minute,
        p_day: w.day,
        p_month: w.month,
      });
      return { ...usage, monthCostMicros: Number(usage.monthCostMicros ?? 0) };
    },
    async takeLeases(requests) {
      if (requests.length === 0) return [];
      // bigint arguments: whole numbers only.
      const whole = (n: number) => Number.isFinite(n) ? Math.trunc(n) : 0;
      return await call<LeaseGrant[]>("gp_take_leases", {
        p_requests: requests.map((r) => ({
          counter: r.counter,
          window: r.window,
          settle: whole(r.settle),
          want: whole(r.want),
          cap: whole(r.cap),
          expiresAt: whole(r.expiresAt),
        })),
        p_now: Math.floor(now()),
      });
    },
  };
}

/** Request logs, aggregates and named counters. */
function logMethods(call: Rpc, now: () => number): SupabaseLogs {
  return {
    async insertLogs(logs, deltas, retentionMs) {
      if (logs.length === 0 && deltas.length === 0) return;
      const t = Math.floor(now());
      // Large batches (bodies kept with LOG_BODIES) go in slices of a bounded request size; the
      // counters travel with the last slice, and a batch retried after a failure skips the ids
      // already stored, so nothing is counted twice.
      const slices = sliceBySize(logs, MAX_REQUEST_BYTES);
      for (const [i, slice] of slices.entries()) {
        await call<null>("gp_insert_logs", {
          p_logs: slice,
          p_deltas: i === slices.length - 1 ? deltas : [],
          p_expires_at: t + Math.round(retentionMs),
          p_now: t,
        });
      }
    },
    // One transaction that also records the batch id: a retry adds nothing twice.
    async addAggregates({ id, rows }) {
      if (rows.length === 0) return;
      await call<null>("gp_add_aggregates", {
        p_id: id,
        p_deltas: fieldDeltas(rows),
        p_now: Math.floor(now()),
      });
    },
    async listLogs(filter, limit, cursor) {
      const rows = await call<LogRecord[]>("gp_list_logs", {
        p_filter: filter,
        p_limit: limit + 1,
        p_cursor: cursor ?? null,
        p_now: Math.floor(now()),
      });
      if (rows.length <= limit) return { logs: rows, cursor: null };
      const page = rows.slice(0, limit);
      return { logs: page, cursor: page.at(-1)?.id ?? null };
    },
    getLog: (id) => call<LogRecord | null>("gp_get_log", { p_id: id, p_now: Math.floor(now()) }),
    readAggregates: (granularity, { from, to }) =>
      call<AggregateRow[]>("gp_read_aggregates", {
        p_granularity: granularity,
        p_from: Math.floor(from),
        p_to: Math.ceil(to),
      }),
    async addCounter(name, value) {
      await call<null>("gp_add_counter", { p_name: name, p_value: Math.max(0, Math.round(value)) });
    },
    async readCounter(name) {
      return Number(await call<number>("gp_read_counter", { p_name: name }));
    },
  };
}

/** Settings, resource pins and the sign-in throttle. */
function pinMethods(call: Rpc, now: () => number): SupabasePins {
  return {
    getSettings: () => call<Record<string, unknown>>("gp_get_settings"),
    async putSettings(settings) {
      await call<null>("gp_put_settings", { p_settings: settings });
    },
    async putAffinity(resource, keyId, ttlMs) {
      await call<null>("gp_put_affinity", {
        p_resource: resource,
        p_key_id: keyId,
        p_expires_at: Math.floor(now() + ttlMs),
      });
    },
    getAffinity: (resource) =>
      call<string | null>("gp_get_affinity", { p_resource: resource, p_now: Math.floor(now()) }),
    // Admin sign-in throttle
    readAuthThrottle: (scopes) =>
      call<AuthThrottleEntry[]>("gp_read_auth_throttle", { p_scopes: scopes }),
    writeAuthThrottle: (writes) =>
      call<boolean>("gp_write_auth_throttle", {
        p_writes: writes.map((w) => ({ ...w, expiresAt: Math.ceil(w.expiresAt) })),
        p_now: Math.floor(now()),
      }),
  };
}

/**
 * Splits records into slices whose JSON stays under `maxBytes` (a record larger than that goes
 * alone); always at least one slice, possibly empty.
 */
function sliceBySize<T>(records: T[], maxBytes: number): T[][] {
  const slices: T[][] = [[]];
  let size = 0;
  for (const record of records) {
    const bytes = JSON.stringify(record).length;
    if (size + bytes > maxBytes && slices.at(-1)!.length > 0) {
      slices.push([]);
      size = 0;
    }
    slices.at(-1)!.push(record);
    size += bytes;
  }
  return slices;
}

/** The minute and Pacific-day window names containing a moment (as the KV store names them). */
function usageWindows(at: number): [string, string] {
  const names = windowNames(at);
  return [names.minute, names.day];
}

/**
 * The value with every string made storable in `jsonb`, which refuses NUL characters and lone
 * surrogates (both can reach a log record through a client's request body).
 */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "string") {
    return value.includes("\u0000") || !value.isWellFormed()
      ? value.toWellFormed().replaceAll("\u0000", "\uFFFD")
      : value;
  }
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[jsonSafe(key) as string] = jsonSafe(item);
    return out;
  }
  return value;
}
