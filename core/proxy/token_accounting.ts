/**
 * Between the proxy and the token gate: admits a request for its token (reserving its cost
 * estimate when the token has a monthly budget) and, once the request's log record is finished,
 * puts the request's cost on the record and charges the token (tokens and the settled cost).
 * @module
 */
import { budgetReservation, settlement } from "../cost/budget.ts";
import { recordCost } from "../cost/cost.ts";
import type { CompiledPrices } from "../cost/prices.ts";
import type { LogRecord } from "../logs/log_record.ts";
import type { TokenRecord } from "../store/store.ts";
import type { TokenQuota } from "../tokens/token_quota.ts";
import type { ProxyRoute } from "./route.ts";

/** What the estimate of a request reads from its body. */
export interface AdmittedBody {
  /** Body bytes (declared or counted). */
  bytes: number;
  /** The parsed body, when the proxy parsed it. */
  json?: unknown;
  /** The body as text, when buffered JSON. */
  text?: string | null;
}

/** Admission and accounting of proxied requests. */
export interface TokenAccounting {
  /**
   * Admits a request for its token, reserving its cost estimate when the token has a budget.
   * @throws {HttpError} What the token gate or the budget refuses.
   */
  admit(token: TokenRecord, ex: LogRecord, route: ProxyRoute, body: AdmittedBody): Promise<void>;
  /** Puts a finished request's cost on its record and charges its token. Call once per record. */
  account(record: LogRecord): void;
}

/**
 * Creates the accounting.
 * @param tokens The token gate.
 * @param prices The current model prices.
 */
export function createTokenAccounting(
  tokens: TokenQuota,
  prices: () => CompiledPrices,
): TokenAccounting {
  /** The token and reservation of each admitted request, until its record is finished. */
  const admitted = new WeakMap<LogRecord, { token: TokenRecord; reservedMicros: number }>();
  return {
    async admit(token, ex, route, body) {
      const request = { flavour: ex.flavour, method: ex.method, model: ex.model, ...body };
      const reserveMicros = budgetReservation(token, request, prices());
      await tokens.admit(token, {
        model: route.kind === "live" ? null : ex.model,
        kind: route.kind,
        ...(reserveMicros === undefined ? {} : { reserveMicros }),
      });
      admitted.set(ex, { token, reservedMicros: reserveMicros ?? 0 });
    },
    account(record) {
      const cost = recordCost(record, prices());
      Object.assign(record, cost);
      const entry = admitted.get(record);
      if (!entry) return;
      admitted.delete(record);
      tokens.charge(entry.token, record.usage, settlement(record, cost, entry.reservedMicros));
    },
  };
}
