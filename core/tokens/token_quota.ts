/**
 * Enforces proxy tokens' model allow-lists and limits on the hot path, and charges their usage.
 *
 * A token without limits never waits on the store: its requests and tokens are counted in
 * memory and written in batches by {@linkcode TokenQuota.sync}. A token with limits pays one
 * atomic store round trip per request ({@linkcode Store.chargeTokenRequest}), which keeps request
 * limits exact across processes. Tokens are charged when a response ends; for a token with a
 * daily token limit that write starts at once, and its next request waits for it, so a response
 * that crosses the limit is the last one served.
 *
 * A monthly budget is one more limit on the same path: admission reserves the request's cost
 * estimate in the same atomic charge, and the end of the request settles the reservation to the
 * real cost (written at once, like a `tpd` charge). The estimate and the settlement are computed
 * by the caller (`core/cost/budget.ts`); this gate only carries them to the store.
 * @module
 */
import { formatUsd } from "../cost/cost.ts";
import { HttpError, retryInfo } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ProxyRoute } from "../proxy/route.ts";
import type {
  Store,
  TokenLimitName,
  TokenLimits,
  TokenRecord,
  TokenUsageDelta,
} from "../store/store.ts";
import type { Usage } from "../usage.ts";
import { allowsEveryModel, modelAllowed } from "./glob.ts";
import { activeLimits } from "./token_limits.ts";

/** Options of {@linkcode createTokenQuota}. */
export interface TokenQuotaOptions {
  /** Backing store. */
  store: Store;
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
  kind: ProxyRoute["kind"];
  /**
   * The request's cost estimate (µUSD), reserved against the token's monthly budget; absent for
   * calls Google does not bill and for tokens without a budget.
   */
  reserveMicros?: number;
}

/** How a finished request's cost settles its reservation. */
export interface ChargeCost {
  /** What the request cost, µUSD (its reservation, when the cost is unknown). */
  micros: number;
  /** What admission reserved, µUSD (0 when nothing was). */
  reservedMicros: number;
}

/** The gate between authenticated tokens and upstream. */
export interface TokenQuota {
  /**
   * Admits a request for a token or throws the Google-style error the client should get.
   * @throws {HttpError} 403 when the model is not allowed, 429 with Retry-After over a limit,
   * 503 when a limited token's counters cannot be reached.
   */
  admit(token: TokenRecord, request: AdmitRequest): Promise<void>;
  /**
   * Charges a finished response's tokens (prompt + candidates + thoughts) and settles its cost
   * (the difference between what it cost and what was reserved). Never throws.
   */
  charge(token: TokenRecord, usage: Usage | null, cost?: ChargeCost): void;
  /** Writes counts queued in memory. Never throws. */
  sync(): Promise<void>;
}

/** Wording of each limit in messages and QuotaFailure details. */
const LIMIT_TEXT: Record<TokenLimitName, { unit: string; quotaId: string }> = {
  rpm: { unit: "requests per minute", quotaId: "ProxyTokenRequestsPerMinute" },
  rpd: { unit: "requests per day", quotaId: "ProxyTokenRequestsPerDay" },
  tpd: { unit: "tokens per day", quotaId: "ProxyTokenTokensPerDay" },
  budget: { unit: "a month", quotaId: "ProxyTokenMonthlyBudget" },
};

/**
 * Creates the gate.
 * @param options Store, clock and logger.
 * @returns The gate; call its `sync` on the adapter's timer.
 */
export function createTokenQuota(options: TokenQuotaOptions): TokenQuota {
  const { store, now, logger } = options;
  /** Counts waiting for the next sync, by token and minute. */
  let queued = new Map<string, TokenUsageDelta>();
  /** Token-usage writes in flight for tokens with a daily token limit, by token id. */
  const writing = new Map<string, Promise<void>>();
  let flushing: Promise<void> | null = null;

  function queue(add: TokenUsageDelta): void {
    const id = `${add.tokenId}\u0000${Math.floor(add.at / 60_000)}`;
    const delta = queued.get(id);
    if (delta) {
      delta.requests += add.requests;
      delta.tokens += add.tokens;
      delta.costMicros = (delta.costMicros ?? 0) + (add.costMicros ?? 0);
      delta.at = Math.max(delta.at, add.at);
    } else queued.set(id, { ...add });
  }

  function writeNow(delta: TokenUsageDelta): void {
    const previous = writing.get(delta.tokenId) ?? Promise.resolve();
    const write: Promise<void> = previous
      .then(() => store.addTokenUsage([delta]))
      .catch((error) => {
        logger.log("warn", "token usage write failed: queued for the next sync", { error });
        queue(delta);
      })
      .finally(() => {
        if (writing.get(delta.tokenId) === write) writing.delete(delta.tokenId);
      });
    writing.set(delta.tokenId, write);
  }

  async function flush(): Promise<void> {
    const batch = [...queued.values()];
    queued = new Map();
    if (batch.length === 0) return;
    try {
      await store.addTokenUsage(batch);
    } catch (error) {
      logger.log("warn", "token usage sync failed: will retry", { error });
      for (const d of batch) queue(d);
    }
  }

  return {
    async admit(token, request) {
      const { model, kind } = request;
      if (token.models !== undefined) {
        if (kind === "live" && !allowsEveryModel(token.models)) {
          throw new HttpError(
            403,
            `Proxy token "${token.name}" has a model allow-list, and the Live API names its model inside the socket where the proxy cannot check it`,
            { reason: "PROXY_TOKEN_MODEL_NOT_ALLOWED" },
          );
        }
        if (model !== null && !modelAllowed(token.models, model)) {
          throw new HttpError(403, `Proxy token "${token.name}" may not use model "${model}"`, {
            reason: "PROXY_TOKEN_MODEL_NOT_ALLOWED",
          });
        }
      }
      // Chunks of an upload session belong to the request that started it.
      if (kind === "upload_chunk") return;
      const at = now();
      const limits = activeLimits(token.limits);
      if (limits === null) {
        queue({ tokenId: token.id, requests: 1, tokens: 0, at });
        return;
      }
      const pending = writing.get(token.id);
      if (pending) await pending;
      const options = request.reserveMicros === undefined
        ? {}
        : { reserveMicros: request.reserveMicros };
      let result;
      try {
        result = await store.chargeTokenRequest(token.id, limits, at, options);
      } catch (cause) {
        throw new HttpError(503, "Proxy token limits cannot be checked: the store is unreachable", {
          cause,
          reason: "TOKEN_QUOTA_UNAVAILABLE",
        });
      }
      if (!result.ok) throw overLimit(token, limits, result.limit, result.retryAt - at);
    },
    charge(token, usage, cost) {
      const tokens = usage ? Math.max(0, usage.prompt + usage.candidates + usage.thoughts) : 0;
      const costMicros = cost ? cost.micros - cost.reservedMicros : 0;
      if (tokens <= 0 && costMicros === 0) return;
      const delta: TokenUsageDelta = { tokenId: token.id, requests: 0, tokens, at: now() };
      if (costMicros !== 0) delta.costMicros = costMicros;
      const limits = token.limits;
      if (limits?.tpd !== undefined || limits?.budgetMicros !== undefined) writeNow(delta);
      else queue(delta);
    },
    async sync() {
      flushing ??= flush().finally(() => flushing = null);
      await flushing;
      await Promise.all(writing.values());
    },
  };
}

/**
 * The 429 a client gets over a limit: Google's RESOURCE_EXHAUSTED with ErrorInfo, QuotaFailure
 * and RetryInfo details and a Retry-After header.
 * @param token The token.
 * @param limits Its limits.
 * @param limit The refusing limit.
 * @param waitMs Time until the window ends.
 */
export function overLimit(
  token: TokenRecord,
  limits: TokenLimits,
  limit: TokenLimitName,
  waitMs: number,
): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const { unit, quotaId } = LIMIT_TEXT[limit];
  const value = (limit === "budget" ? limits.budgetMicros : limits[limit]) ?? 0;
  const shown = limit === "budget" ? formatUsd(value) : String(value);
  const message = limit === "budget"
    ? `Proxy token "${token.name}" has spent its budget of ${shown} ${unit}, or this request's cost estimate does not fit in what is left: retry in ${seconds}s`
    : `Proxy token "${token.name}" reached its limit of ${shown} ${unit}: retry in ${seconds}s`;
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
