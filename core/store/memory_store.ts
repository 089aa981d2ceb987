import { pacificDay } from "../pacific_time.ts";
import { createMemoryTokenCounters } from "./memory_token_counters.ts";
import { createMemoryLeases } from "./memory_leases.ts";
import { createMemoryAuthThrottle } from "./memory_auth_throttle.ts";
import { matchesLog } from "../logs/log_filter.ts";
import type { LogRecord } from "../logs/log_record.ts";
import type {
  AggregateRow,
  CooldownRecord,
  KeyRecord,
  KeyStateRecord,
  KeyUsageTotal,
  Store,
  TokenRecord,
} from "./store.ts";

/** Options of {@linkcode createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock for affinity expiry (default `Date.now`). */
  now?: () => number;
}

/**
 * A store held in process memory: for tests and for deployments that keep nothing.
 * @param options Injected clock.
 * @returns A {@linkcode Store} whose data dies with the process.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const keys = new Map<string, KeyRecord>();
  const tokens = new Map<string, TokenRecord>();
  const affinity = new Map<string, { keyId: string; until: number }>();
  const cooldowns = new Map<string, CooldownRecord>();
  const usage = new Map<string, number>();
  const states = new Map<string, KeyStateRecord>();
  const tokenCounters = createMemoryTokenCounters(now);
  const leases = createMemoryLeases(now);
  const authThrottle = createMemoryAuthThrottle({ now });
  const logs: { record: LogRecord; until: number }[] = [];
  const aggregates = new Map<string, AggregateRow>();
  const counters = new Map<string, number>();
  let settings: Record<string, unknown> = {};
  let version = 0;
  let cooldownVersion = 0;

  function insert<T extends { id: string }>(map: Map<string, T>, record: T): boolean {
    if (map.has(record.id)) return false;
    map.set(record.id, structuredClone(record));
    version++;
    return true;
  }
  function replace<T extends { id: string }>(map: Map<string, T>, record: T): boolean {
    if (!map.has(record.id)) return false;
    map.set(record.id, structuredClone(record));
    version++;
    return true;
  }
  function remove<T>(map: Map<string, T>, id: string): boolean {
    const existed = map.delete(id);
    if (existed) version++;
    return existed;
  }

  return {
    kind: "memory",
    listKeys: () => Promise.resolve(sorted(keys)),
    addKey: (record) => Promise.resolve(insert(keys, record)),
    updateKey: (record) => Promise.resolve(replace(keys, record)),
    setKeyEnabled(id, enabled, reason, at) {
      const current = keys.get(id);
      if (!current) return Promise.resolve(null);
      const next = withEnabled(current, enabled, reason, at ?? now());
      keys.set(id, next);
      version++;
      return Promise.resolve(structuredClone(next));
    },
    deleteKey: (id) => Promise.resolve(remove(keys, id)),
    listTokens: () => Promise.resolve(tokenCounters.withLastUsed(sorted(tokens))),
    addToken: (record) => Promise.resolve(insert(tokens, record)),
    updateToken: (record) => Promise.resolve(replace(tokens, record)),
    deleteToken: (id) => Promise.resolve(remove(tokens, id)),
    version: () => Promise.resolve(String(version)),
    setCooldown(cooldown) {
      const id = `${cooldown.scope}\u0000${cooldown.model}`;
      const existing = cooldowns.get(id);
      if (!existing || existing.until < cooldown.until || existing.until <= now()) {
        cooldowns.set(id, { ...cooldown });
        cooldownVersion++;
      }
      return Promise.resolve();
    },
    listCooldowns() {
      const t = now();
      return Promise.resolve(
        [...cooldowns.values()].filter((c) => c.until > t).map((c) => ({ ...c })),
      );
    },
    cooldownVersion: () => Promise.resolve(String(cooldownVersion)),
    addKeyUsage(deltas) {
      for (const d of deltas) {
        for (const window of usageWindows(d.at)) {
          const base = `${window}\u0000${d.keyId}\u0000${d.model}`;
          usage.set(`${base}\u0000r`, (usage.get(`${base}\u0000r`) ?? 0) + d.requests);
          usage.set(`${base}\u0000t`, (usage.get(`${base}\u0000t`) ?? 0) + d.tokens);
        }
      }
      return Promise.resolve();
    },
    readKeyUsage(at) {
      const [minute, day] = usageWindows(at);
      const totals = new Map<string, KeyUsageTotal>();
      for (const [id, value] of usage) {
        const [window, keyId = "", model = "", kind] = id.split("\u0000");
        if (window !== minute && window !== day) continue;
        const key = `${keyId}\u0000${model}`;
        const total = totals.get(key) ??
          { keyId, model, minute: 0, day: 0, minuteTokens: 0, dayTokens: 0 };
        if (window === minute) total[kind === "r" ? "minute" : "minuteTokens"] += value;
        else total[kind === "r" ? "day" : "dayTokens"] += value;
        totals.set(key, total);
      }
      return Promise.resolve([...totals.values()]);
    },
    putKeyStates(list) {
      for (const state of list) {
        states.set(state.keyId, { ...states.get(state.keyId), ...state });
      }
      return Promise.resolve();
    },
    listKeyStates: () => Promise.resolve([...states.values()].map((s) => ({ ...s }))),
    insertLogs(records, deltas, retentionMs) {
      const until = now() + retentionMs;
      for (const record of records) logs.push({ record: structuredClone(record), until });
      logs.sort((a, b) => a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0);
      for (const d of deltas) {
        const id = [d.granularity, d.bucket, d.keyId, d.model, d.tokenId].join("\u0000");
        let row = aggregates.get(id);
        if (!row) {
          row = {
            bucket: d.bucket,
            keyId: d.keyId,
            model: d.model,
            tokenId: d.tokenId,
            fields: {},
          };
          aggregates.set(id, row);
        }
        row.fields[d.field] = (row.fields[d.field] ?? 0) + d.value;
      }
      return Promise.resolve();
    },
    listLogs(filter, limit, cursor) {
      const t = now();
      const out: LogRecord[] = [];
      let next: string | null = null;
      for (let i = logs.length - 1; i >= 0; i--) {
        const { record, until } = logs[i]!;
        if (until <= t || (cursor && record.id >= cursor)) continue;
        if (!matchesLog(record, filter)) continue;
        if (out.length === limit) {
          next = out.at(-1)!.id;
          break;
        }
        out.push(structuredClone(record));
      }
      return Promise.resolve({ logs: out, cursor: next });
    },
    getLog(id) {
      const entry = logs.find((l) => l.record.id === id && l.until > now());
      return Promise.resolve(entry ? structuredClone(entry.record) : null);
    },
    readAggregates(granularity, from, to) {
      const out: AggregateRow[] = [];
      for (const [id, row] of aggregates) {
        if (id.startsWith(`${granularity}\u0000`) && row.bucket >= from && row.bucket < to) {
          out.push(structuredClone(row));
        }
      }
      return Promise.resolve(out.sort((a, b) => a.bucket - b.bucket));
    },
    addCounter(name, value) {
      counters.set(name, (counters.get(name) ?? 0) + value);
      return Promise.resolve();
    },
    readCounter: (name) => Promise.resolve(counters.get(name) ?? 0),
    // Token quotas
    addTokenUsage: tokenCounters.addTokenUsage,
    readTokenUsage: tokenCounters.readTokenUsage,
    takeLeases: leases.takeLeases,
    getSettings: () => Promise.resolve(structuredClone(settings)),
    putSettings(next) {
      settings = structuredClone(next);
      version++;
      return Promise.resolve();
    },
    putAffinity(resource, keyId, ttlMs) {
      affinity.set(resource, { keyId, until: now() + ttlMs });
      return Promise.resolve();
    },
    getAffinity(resource) {
      const entry = affinity.get(resource);
      if (!entry || entry.until <= now()) return Promise.resolve(null);
      return Promise.resolve(entry.keyId);
    },
    readAuthThrottle: authThrottle.readAuthThrottle,
    writeAuthThrottle: authThrottle.writeAuthThrottle,
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

function sorted<T extends { id: string; createdAt: number }>(map: Map<string, T>): T[] {
  return [...map.values()]
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    .map((record) => structuredClone(record));
}

/**
 * A key record with its enabled flag changed; disabling keeps the reason and time.
 * @param record Current record.
 * @param enabled New state.
 * @param reason Why it was disabled.
 * @param at When (epoch ms).
 */
export function withEnabled(
  record: KeyRecord,
  enabled: boolean,
  reason: string | undefined,
  at: number,
): KeyRecord {
  const { disabledReason: _r, disabledAt: _a, ...rest } = record;
  return enabled ? { ...rest, enabled: true } : {
    ...rest,
    enabled: false,
    disabledReason: reason ?? "disabled",
    disabledAt: at,
  };
}

/** The minute and Pacific-day window names containing a moment. */
function usageWindows(at: number): [string, string] {
  return [`m${Math.floor(at / 60_000)}`, `d${pacificDay(at)}`];
}
