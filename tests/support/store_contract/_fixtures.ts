/**
 * What every part of the store contract shares: the target a backend hands it, and plausible
 * records to store.
 * @module
 */
import type { KeyRecord, Store, TokenRecord } from "../../../core/store/mod.ts";
import type { LogRecord } from "../../../core/store/mod.ts";

/** A fresh store plus a clock the test can move, and cleanup. */
export interface ContractTarget {
  store: Store;
  clock: { now: number };
  cleanup?: () => Promise<void>;
}

/** Runs a test body on a fresh store, then closes and cleans it up. */
export type WithStore = (fn: (t: ContractTarget) => Promise<void>) => Promise<void>;

/** A key record for store tests. */
export function key(id: string, createdAt: number, extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    sealed: `v1.sealed.${id}`,
    masked: "AIza...TEST",
    enabled: true,
    source: "env",
    createdAt,
    ...extra,
  };
}

/** A token record for store tests. */
export function token(id: string, createdAt: number): TokenRecord {
  return {
    id,
    name: `token ${id}`,
    hash: `hash-${id}`,
    masked: "gp-...TEST",
    enabled: true,
    source: "admin",
    createdAt,
  };
}

/**
 * A plausible log record for store and log tests.
 * @param id Request id (time-ordered ids sort like times).
 * @param time Epoch ms.
 * @param extra Fields to override.
 */
export function sampleLog(id: string, time: number, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    id,
    time,
    httpMethod: "POST",
    path: "/v1beta/models/m:generateContent",
    tokenId: "t1",
    tokenName: "app",
    model: "m",
    method: "generateContent",
    flavour: "native",
    stream: false,
    status: 200,
    errorClass: null,
    attempts: [],
    keyId: "k1",
    keyMasked: "AIza...TEST",
    ttfbMs: 5,
    durationMs: 9,
    bytesIn: 10,
    bytesOut: 20,
    usage: null,
    finishReason: "STOP",
    truncated: false,
    region: null,
    userAgent: null,
    ...extra,
  };
}
