/**
 * Enforces proxy tokens' model allow-lists and limits on the hot path, and counts their usage.
 *
 * Usage (requests and tokens, for display) is counted in memory and written in batches by
 * {@linkcode TokenQuota.sync}. Limits are held by the lease ledger (`core/limits/`): a request
 * takes one unit of `rpm` and `rpd` and reserves its estimated tokens of `tpd` from blocks the
 * instance leased from the store, so it waits on the store only when its instance holds too
 * little; the `tpd` reservation is settled to the real usage when the response ends.
 *
 * A monthly budget is one more limit on the same path: admission reserves the request's cost
 * estimate (µUSD) from the budget's month, and the end of the request settles the reservation to
 * the real cost. The estimate and the settlement are computed by the caller
 * (`core/cost/budget.ts`); this gate carries them to the ledger and the usage counters.
 * @module
 */
import { type ChargeCost, formatUsd } from "../cost/mod.ts";
import { HttpError, retryInfo } from "../errors.ts";
import type { Logger } from "../logs/mod.ts";
import type { Demand, Grant, LeaseLedger } from "./lease_ledger.ts";
import type {
  RouteKind,
  Store,
  TokenLimitName,
  TokenLimits,
  TokenRecord,
  TokenUsageDelta,
} from "../store/mod.ts";
import type { Usage } from "../usage/mod.ts";
import { allowsEveryModel, modelAllowed } from "./glob.ts";
import { SerialRuns } from "../utils/mod.ts";
import { activeLimits } from "./token_limits.ts";

/** Options of {@linkcode createTokenQuota}. */
export interface TokenQuotaOptions {
  /** Backing store, for usage counters. */
  store: Store;
  /** The instance's leases, holding the limits. */
  ledger: LeaseLedger;
  /** Clock (epoch ms). */
  now: () => number;
  /** Logger for failed background writes. */
  logger: Logger;
}

/** What {@linkcode TokenQuota.admit} needs to know about a request. */
export interface AdmitRequest {
  /** Model the request uses, when known. */
  model: string | null;
  /** Route kind: upload chunks are not counted, the Live API cannot be model-checked. */
  kind: RouteKind;
  /** Tokens the request may use (see `core/limits/estimate.ts`); asked only under a `tpd`. */
  estimate?: () => number;
  /**
   * The request's cost estimate (µUSD), reserved against the token's monthly budget; absent for
   * calls Google does not bill and for tokens without a budget.
   */
  reserveMicros?: number;
}

/** Options of {@linkcode Admission.settle}. */
export interface SettleOptions {
  /** The request's cost, µUSD, to settle a budget reservation with. */
  costMicros?: number;
  /** The response was served but reported no usage: its `tpd` reservation stays spent. */
  usageUnknown?: boolean;
}

/** An admitted request's hold on its token's limits. */
export interface Admission {
  /**
   * Settles the request's reservations to what it really used: its tokens under `tpd` and its
   * cost under a budget (µUSD). Later calls do nothing.
   * @param usage What the response reported; null when it used nothing (it failed) or did not say.
   * @param options `costMicros` settles the budget; `usageUnknown` (a served response that never
   *   reported usage, such as a stream the client cut short) keeps the `tpd` reservation as spent.
   */
  settle(usage: Usage | null, options?: SettleOptions): void;
}

/** The gate between authenticated tokens and upstream. */
export interface TokenQuota {
  /**
   * Admits a request for a token or refuses it with the Google-style error the client should
   * get.
   * @returns The admission, to settle when the response has ended: at once for a token without
   * limits (nothing to await), else a promise of it. A refusal is always a rejected promise.
   * @throws {HttpError} 403 when the model is not allowed, 429 with Retry-After over a limit,
   * 503 when a limited token's counters cannot be reached.
   */
  admit(token: TokenRecord, request: AdmitRequest): Admission | Promise<Admission>;
  /**
   * Counts a finished response's tokens (prompt + candidates + thoughts) and its cost (the
   * difference between what it cost and what admission counted) in the usage counters. Never
   * throws.
   */
  charge(token: TokenRecord, usage: Usage | null, cost?: ChargeCost): void;
  /** Writes counts queued in memory, those queued while a write is on its way included. Never throws. */
  sync(): Promise<void>;
}

/** Wording of each limit in messages and QuotaFailure details. */
const LIMIT_TEXT: Record<TokenLimitName, { unit: string; quotaId: string }> = {
  rpm: { unit: "requests per minute", quotaId: "ProxyTokenRequestsPerMinute" },
  rpd: { unit: "requests per day", quotaId: "ProxyTokenRequestsPerDay" },
  tpd: { unit: "tokens per day", quotaId: "ProxyTokenTokensPerDay" },
  budget: { unit: "a month", quotaId: "ProxyTokenMonthlyBudget" },
};

/** Nothing to settle: unlimited tokens and upload chunks. */
const FREE: Admission = { settle() {} };

/**
 * Creates the gate.
 * @param options Store, ledger, clock and logger.
 * @returns The gate; call its `sync` on the adapter's timer.
 */
export function createTokenQuota(options: TokenQuotaOptions): TokenQuota {
  return new TokenGate(options);
}

/** The gate behind {@linkcode createTokenQuota}. */
class TokenGate implements TokenQuota {
  #options: TokenQuotaOptions;
  /** Counts waiting for the next sync, by token and minute. */
  #queued = new Map<string, TokenUsageDelta>();
  /** Writes of queued counts, one at a time. */
  #writes = new SerialRuns<void>(() => this.#flush());

  constructor(options: TokenQuotaOptions) {
    this.#options = options;
  }

  admit(token: TokenRecord, request: AdmitRequest): Admission | Promise<Admission> {
    try {
      checkModel(token, request);
    } catch (error) {
      return Promise.reject(error);
    }
    // Chunks of an upload session belong to the request that started it.
    if (request.kind === "upload_chunk") return FREE;
    const limits = activeLimits(token.limits);
    if (limits === null) return this.#count(token, request, FREE);
    return this.#limit(token, { limits, request }).then((admission) =>
      this.#count(token, request, admission)
    );
  }

  /** Counts an admitted request (and the cost it reserved) for the token's usage. */
  #count(token: TokenRecord, request: AdmitRequest, admission: Admission): Admission {
    const delta: TokenUsageDelta = {
      tokenId: token.id,
      requests: 1,
      tokens: 0,
      at: this.#options.now(),
    };
    // Spending shown includes what requests in flight reserved; their end settles it.
    if (request.reserveMicros) delta.costMicros = Math.round(request.reserveMicros);
    this.#queue(delta);
    return admission;
  }

  charge(token: TokenRecord, usage: Usage | null, cost?: ChargeCost): void {
    const tokens = usage ? Math.max(0, tokensOf(usage)) : 0;
    // Admission counted the reservation; the difference makes it the real cost.
    const costMicros = cost ? Math.round(cost.micros - cost.reservedMicros) : 0;
    if (tokens <= 0 && costMicros === 0) return;
    const delta: TokenUsageDelta = {
      tokenId: token.id,
      requests: 0,
      tokens,
      at: this.#options.now(),
    };
    if (costMicros !== 0) delta.costMicros = costMicros;
    this.#queue(delta);
  }

  sync(): Promise<void> {
    // Counts queued while a write is on its way go in the next one, which this call waits for.
    return this.#writes.fresh();
  }

  #queue(add: TokenUsageDelta): void {
    const id = `${add.tokenId}\u0000${Math.floor(add.at / 60_000)}`;
    const delta = this.#queued.get(id);
    if (delta) {
      delta.requests += add.requests;
      delta.tokens += add.tokens;
      delta.costMicros = (delta.costMicros ?? 0) + (add.costMicros ?? 0);
      delta.at = Math.max(delta.at, add.at);
    } else this.#queued.set(id, { ...add });
  }

  async #flush(): Promise<void> {
    const batch = [...this.#queued.values()];
    this.#queued = new Map();
    if (batch.length === 0) return;
    try {
      await this.#options.store.addTokenUsage(batch);
    } catch (error) {
      this.#options.logger.log("warn", "token usage sync failed: will retry", { error });
      for (const d of batch) this.#queue(d);
    }
  }

  /** Takes the request's units of every limit, or refuses it with the limit it passed. */
  async #limit(
    token: TokenRecord,
    under: { limits: TokenLimits; request: AdmitRequest },
  ): Promise<Admission> {
    const { ledger, now } = this.#options;
    const wanted = demands(token.id, under.limits, under.request);
    let result;
    try {
      result = await ledger.take(wanted.map((w) => w.demand));
    } catch (cause) {
      throw new HttpError(503, "Proxy token limits cannot be checked: the store is unreachable", {
        cause,
        reason: "TOKEN_QUOTA_UNAVAILABLE",
      });
    }
    if (!result.ok) {
      const refused = wanted[result.index]!;
      throw overLimit(token, {
        limits: under.limits,
        limit: refused.name,
        waitMs: result.retryAt - now(),
        reserved: refused.demand.want,
      });
    }
    return settlingAdmission(ledger, { grant: result.grant, wanted });
  }
}

/** An admission that settles the `tpd` and budget parts of its grant once the request ends. */
function settlingAdmission(
  ledger: LeaseLedger,
  taken: { grant: Grant; wanted: { name: TokenLimitName }[] },
): Admission {
  const { grant, wanted } = taken;
  const tpd = wanted.findIndex((w) => w.name === "tpd");
  const budget = wanted.findIndex((w) => w.name === "budget");
  if (tpd < 0 && budget < 0) return FREE;
  let settled = false;
  return {
    settle(usage: Usage | null, options: SettleOptions = {}) {
      if (settled) return;
      settled = true;
      // Without usage a served response is charged its estimate: cutting a stream short before
      // its usage arrives must not make it free.
      const keep = usage === null && options.usageUnknown === true;
      if (tpd >= 0 && !keep) ledger.settle(grant, tpd, usage ? tokensOf(usage) : 0);
      const { costMicros } = options;
      if (budget >= 0 && costMicros !== undefined) ledger.settle(grant, budget, costMicros);
    },
  };
}

/** Tokens a response counts against `tpd`: prompt + candidates + thoughts. */
function tokensOf(usage: Usage): number {
  return usage.prompt + usage.candidates + usage.thoughts;
}

/** The lease demands of one request under a token's limits, with the limit each stands for. */
function demands(
  tokenId: string,
  limits: TokenLimits,
  request: AdmitRequest,
): { name: TokenLimitName; demand: Demand }[] {
  const out: { name: TokenLimitName; demand: Demand }[] = [];
  if (limits.budgetMicros !== undefined && request.reserveMicros !== undefined) {
    // A billed request always takes something, so nothing billed passes a spent budget.
    const micros = Math.min(limits.budgetMicros, Math.max(1, Math.ceil(request.reserveMicros)));
    out.push({
      name: "budget",
      demand: {
        counter: `t:${tokenId}:budget`,
        kind: "month",
        cap: limits.budgetMicros,
        want: micros,
      },
    });
  }
  if (limits.tpd !== undefined) {
    // A request may not reserve more than the whole day: it is then served only on a fresh day.
    const estimate = Math.min(limits.tpd, Math.max(1, request.estimate?.() ?? 1));
    out.push({
      name: "tpd",
      demand: { counter: `t:${tokenId}:tpd`, kind: "day", cap: limits.tpd, want: estimate },
    });
  }
  if (limits.rpd !== undefined) {
    out.push({
      name: "rpd",
      demand: { counter: `t:${tokenId}:rpd`, kind: "day", cap: limits.rpd, want: 1 },
    });
  }
  if (limits.rpm !== undefined) {
    out.push({
      name: "rpm",
      demand: { counter: `t:${tokenId}:rpm`, kind: "minute", cap: limits.rpm, want: 1 },
    });
  }
  return out;
}

/** Refuses a model outside the token's allow-list. */
function checkModel(token: TokenRecord, request: AdmitRequest): void {
  if (token.models === undefined) return;
  if (request.kind === "live" && !allowsEveryModel(token.models)) {
    throw new HttpError(
      403,
      `Proxy token "${token.name}" has a model allow-list, and the Live API names its model inside the socket where the proxy cannot check it`,
      { reason: "PROXY_TOKEN_MODEL_NOT_ALLOWED" },
    );
  }
  if (request.model !== null && !modelAllowed(token.models, request.model)) {
    throw new HttpError(403, `Proxy token "${token.name}" may not use model "${request.model}"`, {
      reason: "PROXY_TOKEN_MODEL_NOT_ALLOWED",
    });
  }
}

/**
 * The 429 a client gets over a limit: Google's RESOURCE_EXHAUSTED with ErrorInfo, QuotaFailure
 * and RetryInfo details and a Retry-After header.
 * @param token The token.
 * @param over Its limits, the refusing limit, the time until its window ends and, for `tpd`, the
 *   tokens the request would have reserved (default 1).
 */
export function overLimit(
  token: TokenRecord,
  over: { limits: TokenLimits; limit: TokenLimitName; waitMs: number; reserved?: number },
): HttpError {
  const { limits, limit, waitMs, reserved = 1 } = over;
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const { unit, quotaId } = LIMIT_TEXT[limit];
  const value = (limit === "budget" ? limits.budgetMicros : limits[limit]) ?? 0;
  const shown = limit === "budget" ? formatUsd(value) : String(value);
  const need = limit === "tpd" && reserved > 1
    ? ` (this request may use up to ${reserved} tokens)`
    : "";
  const message = limit === "budget"
    ? `Proxy token "${token.name}" has spent its budget of ${shown} ${unit}, or this request's cost estimate does not fit in what is left: retry in ${seconds}s`
    : `Proxy token "${token.name}" reached its limit of ${shown} ${unit}${need}: retry in ${seconds}s`;
  return new HttpError(
    429,
    message,
    {
      reason: `TOKEN_${limit.toUpperCase()}_EXCEEDED`,
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{
            subject: `proxy token ${token.id}`,
            description: `Limit of ${shown} ${unit}`,
            quotaId,
            quotaValue: String(value),
          }],
        },
        retryInfo(seconds),
      ],
      headers: { "retry-after": String(seconds) },
    },
  );
}
