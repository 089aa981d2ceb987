/**
 * Stage 8, call upstream: one try of the request on one key, within what is left of the
 * request's wait for headers, noted on the record as an attempt.
 * @module
 */
import type { ActiveKey } from "../rotation/mod.ts";
import type { AttemptRecord } from "../store/mod.ts";
import { timeBudget } from "../utils/mod.ts";
import type { FailoverState, ReadExchange } from "./exchange.ts";
import { type Attempt, callUpstream } from "./upstream_call.ts";

/** A try and the attempt it added to the record. */
export interface Trial {
  /** The key tried. */
  key: ActiveKey;
  /** Its outcome. */
  outcome: Attempt;
  /** Its entry in the record's attempts (its error class is filled in by the judge). */
  attempt: AttemptRecord;
}

/**
 * Sends the request with a key, counting the use.
 * @param exchange The request, its body read.
 * @param turn The key and the failover state (tried keys, wait for headers).
 * @returns The try.
 * @throws {HttpError} 413 when a streamed body passes the limit.
 */
export async function callKey(
  exchange: ReadExchange,
  turn: { key: ActiveKey; state: FailoverState },
): Promise<Trial> {
  const { app, model, record } = exchange;
  const { key, state } = turn;
  if (exchange.pinned) app.caps.force(key, model);
  state.tried.add(key.id);
  app.poolSync.countUse(key, model);
  const started = app.now();
  state.headersLeft ??= timeBudget(app.config.upstreamTimeoutMs);
  const outcome = await callUpstream({
    request: exchange.request,
    route: exchange.route,
    target: state.target,
    key,
    body: exchange.body,
    config: app.config,
    fetch: app.fetch,
    timeoutMs: state.headersLeft(),
  });
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
