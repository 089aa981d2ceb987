/**
 * Stage 8, call upstream: one try of the request on one key, within what is left of the
 * request's wait for headers, noted on the record as an attempt.
 * @module
 */
import type { ActiveKey } from "../rotation/mod.ts";
import type { AttemptRecord } from "../store/mod.ts";
import { timeBudget } from "../utils/mod.ts";
import type { FailoverState, ReadExchange } from "./exchange.ts";
import type { Attempt, UpstreamCall } from "./upstream_call.ts";

/** A try and the attempt it added to the record. */
export interface Trial {
  /** The key tried. */
  key: ActiveKey;
  /** Its outcome. */
  outcome: Attempt;
  /** Its entry in the record's attempts (its error class is filled in by the judge). */
  attempt: AttemptRecord;
}

/** One upstream call on a key, with the time it started. */
export interface KeyCall extends UpstreamCall {
  /** When the try started (epoch ms). */
  started: number;
}

/**
 * Starts a try on a key: counts the use, marks the key tried, and builds the call within what is
 * left of the request's wait for headers. The failover loop awaits {@linkcode callUpstream} on it
 * itself, then notes the outcome with {@linkcode noteAttempt}: no promise of its own per request.
 * @param exchange The request, its body read.
 * @param turn The key and the failover state (tried keys, wait for headers).
 * @returns The call to send.
 */
export function keyCall(
  exchange: ReadExchange,
  turn: { key: ActiveKey; state: FailoverState },
): KeyCall {
  const { app, model } = exchange;
  const { key, state } = turn;
  if (exchange.pinned) app.caps.force(key, model);
  state.tried.add(key.id);
  app.poolSync.countUse(key, model);
  const started = app.now();
  state.headersLeft ??= timeBudget(app.config.upstreamTimeoutMs);
  return {
    request: exchange.request,
    headers: exchange.headers,
    route: exchange.route,
    target: state.target,
    key,
    body: exchange.body,
    config: app.config,
    fetch: app.fetch,
    timeoutMs: state.headersLeft(),
    started,
  };
}

/**
 * Notes a try's outcome on the record: the key used and an attempt.
 * @param exchange The request.
 * @param call The call made.
 * @param outcome What it got.
 * @returns The try.
 */
export function noteAttempt(exchange: ReadExchange, call: KeyCall, outcome: Attempt): Trial {
  const { app, record } = exchange;
  const { key, started } = call;
  record.keyId = key.id;
  record.keyMasked = key.record.masked;
  const attempt: AttemptRecord = {
    keyId: key.id,
    keyMasked: key.record.masked,
    status: outcome.kind === "response" ? outcome.response.status : 0,
    errorClass: outcome.kind === "failed" ? outcome.verdict.errorClass : null,
    durationMs: app.now() - started,
    startMs: started - record.time,
  };
  record.attempts.push(attempt);
  return { key, outcome, attempt };
}
