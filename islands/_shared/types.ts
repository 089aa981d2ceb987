/**
 * Shapes of the admin API's JSON as the console uses them (never a key value or token secret).
 * @module
 */
import type { LogRecord } from "../../core/store/log_record.ts";
import type { Series, Stats } from "../../core/logs/aggregates.ts";

export type { LogRecord, Series };

/** A cooldown of a key (or its project) for a model. */
export interface CooldownView {
  /** Model id or `*`. */
  model: string;
  /** Epoch ms when it ends (server clock). */
  until: number;
  /** Seconds left when the list was read. */
  seconds: number;
  /** Why. */
  reason: string;
}

/** A key as `GET /admin/api/keys` shows it: masked, with state and usage. */
export interface KeyView {
  id: string;
  masked: string;
  enabled: boolean;
  status: "enabled" | "cooling" | "disabled";
  disabledReason?: string;
  disabledAt?: number;
  project?: string;
  weight?: number;
  limits?: Record<string, { rpm?: number; rpd?: number }>;
  source: "env" | "admin";
  createdAt: number;
  cooldowns: CooldownView[];
  usageToday?: { requests: number; tokens: number };
  lastUsedAt?: number;
  lastError?: { at: number; status: number; errorClass: string; reason: string };
}

/** A proxy token as `GET /admin/api/tokens` shows it: masked, with usage. */
export interface TokenView {
  id: string;
  name: string;
  masked: string;
  enabled: boolean;
  status: "enabled" | "disabled" | "expired";
  source: "env" | "admin";
  createdAt: number;
  expiresAt?: number;
  models?: string[];
  /** `budgetMicros`: USD a Pacific month may cost, in µUSD. */
  limits?: { rpm?: number; rpd?: number; tpd?: number; budgetMicros?: number };
  lastUsedAt?: number;
  usage?: {
    minute: { requests: number };
    today: { day: string; requests: number; tokens: number };
    /** The Pacific month: spending in µUSD (requests in flight included), and when it resets. */
    month: {
      month: string;
      requests: number;
      tokens: number;
      costMicros: number;
      resetsAt: number;
    };
  };
}

/** `GET /admin/api/stats`. */
export interface StatsView extends Stats {
  from: number;
  to: number;
  queryMs: number;
}

/** A stats range. */
export type Range = "1h" | "24h" | "7d" | "30d";

/** `GET /admin/api/logs`. */
export interface LogPageView {
  logs: LogRecord[];
  cursor: string | null;
}

/** A key's last 24 hours, from the aggregates (`/stats?range=24h&group=keyId`). */
export interface KeyHealthView {
  /** Requests the key answered last. */
  requests: number;
  /** Share answered without a key or upstream error (client mistakes are not the key's). */
  successRate: number | null;
  /** Median latency, ms (upper bucket bound). */
  p50: number | null;
}
