/**
 * Between the proxy and the token gate: admits a request for its token (reserving its tokens
 * under a `tpd` and its cost estimate under a monthly budget) and, once the request's log record
 * is finished, puts the request's cost on the record, settles the reservations to what the
 * request really used and counts its usage.
 * @module
 */
import { budgetReservation, settlement } from "../cost/budget.ts";
import { estimateTokens } from "../limits/estimate.ts";
import { recordCost } from "../cost/cost.ts";
import type { CompiledPrices } from "../cost/prices.ts";
import type { LogRecord } from "../logs/log_record.ts";
import type { TokenRecord } from "../store/store.ts";
import type { Admission, TokenQuota } from "../tokens/token_quota.ts";
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
  /** The token and reservations of each admitted request, until its record is finished. */
  const admitted = new WeakMap<
    LogRecord,
    { token: TokenRecord; reservedMicros: number; admission: Admission }
  >();
  return {
    async admit(token, ex, route, body) {
      const request = { flavour: ex.flavour, method: ex.method, model: ex.model, ...body };
      const reserveMicros = budgetReservation(token, request, prices());
      const admission = await tokens.admit(token, {
        model: route.kind === "live" ? null : ex.model,
        kind: route.kind,
        // A Live session reports no usage: it reserves a token only while it opens.
        ...(route.kind === "live" ? {} : {
          estimate: () =>
            estimateTokens({ json: body.json, text: body.text ?? null, bytes: () => body.bytes }),
        }),
        ...(reserveMicros === undefined ? {} : { reserveMicros }),
      });
      admitted.set(ex, { token, reservedMicros: reserveMicros ?? 0, admission });
    },
    account(record) {
      const cost = recordCost(record, prices());
      Object.assign(record, cost);
      const entry = admitted.get(record);
      if (!entry) return;
      admitted.delete(record);
      const settled = settlement(record, cost, entry.reservedMicros);
      entry.admission.settle(record.usage, {
        costMicros: settled.micros,
        usageUnknown: record.usageUnknown === true,
      });
      tokens.charge(entry.token, record.usage, settled);
    },
  };
}
