/**
 * Between the proxy and the token gate: admits a request for its token (reserving its tokens
 * under a `tpd` and its cost estimate under a monthly budget) and, once the request's log record
 * is finished, puts the request's cost on the record, settles the reservations to what the
 * request really used and counts its usage.
 * @module
 */
import { budgetReservation, type CompiledPrices, recordCost, settlement } from "../cost/mod.ts";
import { type Admission, estimateTokens, type TokenQuota } from "../limits/mod.ts";
import type { LogRecord, RouteKind, TokenRecord } from "../store/mod.ts";

/** What the estimate of a request reads from its body. */
export interface AdmittedBody {
  /** Body bytes (declared or counted). */
  bytes: number;
  /** The parsed body, when the proxy parsed it. */
  json?: unknown;
  /** The body as text, when buffered JSON. */
  text?: string | null;
}

/** A request to admit. */
export interface Admitting {
  /** The client's token. */
  token: TokenRecord;
  /** The request's record (flavour, method, model). */
  record: LogRecord;
  /** The route's kind: a Live session reports no usage, upload chunks are not counted. */
  kind: RouteKind;
  /** What the estimate reads from the body. */
  body: AdmittedBody;
}

/** Admission and accounting of proxied requests. */
export interface TokenAccounting {
  /**
   * Admits a request for its token, reserving its cost estimate when the token has a budget.
   * @returns Undefined when admitted at once (a token without limits), else a promise of the
   * admission; a refusal is always a rejected promise.
   * @throws {HttpError} What the token gate or the budget refuses.
   */
  admit(admission: Admitting): Promise<void> | undefined;
  /** Puts a finished request's cost on its record and charges its token. Call once per record. */
  account(record: LogRecord): void;
}

/**
 * The token and reservations of an admitted request, kept on its record until the record is
 * finished: a slot rather than a weak map, whose entry per request would cost hash work and, for
 * the garbage collector, an ephemeron to trace. Symbol keys are left out of JSON and structured
 * clones, so no store ever sees it.
 */
const ADMITTED = Symbol("admitted");
type Admitted = LogRecord & {
  [ADMITTED]?: { token: TokenRecord; reservedMicros: number; admission: Admission } | undefined;
};

/**
 * Creates the accounting.
 * @param tokens The token gate.
 * @param prices The current model prices.
 */
export function createTokenAccounting(
  tokens: TokenQuota,
  prices: () => CompiledPrices,
): TokenAccounting {
  return {
    admit({ token, record, kind, body }) {
      const request = {
        flavour: record.flavour,
        method: record.method,
        model: record.model,
        ...body,
      };
      let reserveMicros: number | undefined;
      try {
        reserveMicros = budgetReservation(token, request, prices());
      } catch (error) {
        return Promise.reject(error);
      }
      const admitting = tokens.admit(token, {
        model: kind === "live" ? null : record.model,
        kind,
        // A Live session reports no usage: it reserves a token only while it opens.
        ...(kind === "live" ? {} : {
          estimate: () =>
            estimateTokens({ json: body.json, text: body.text ?? null, bytes: () => body.bytes }),
        }),
        ...(reserveMicros === undefined ? {} : { reserveMicros }),
      });
      const reservedMicros = reserveMicros ?? 0;
      if (admitting instanceof Promise) {
        return admitting.then((admission) => {
          (record as Admitted)[ADMITTED] = { token, reservedMicros, admission };
        });
      }
      (record as Admitted)[ADMITTED] = { token, reservedMicros, admission: admitting };
    },
    account(record) {
      const cost = recordCost(record, prices());
      Object.assign(record, cost);
      const entry = (record as Admitted)[ADMITTED];
      if (!entry) return;
      (record as Admitted)[ADMITTED] = undefined;
      const settled = settlement(record, cost, entry.reservedMicros);
      entry.admission.settle(record.usage, {
        costMicros: settled.micros,
        usageUnknown: record.usageUnknown === true,
      });
      tokens.charge(entry.token, record.usage, settled);
    },
  };
}
