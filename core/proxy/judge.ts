/**
 * Stage 9, judge: what one try means. An answer under 400 is relayed; an error answer is read and
 * classified, and Google's verdict rests or retires the key; the request then fails over to
 * another key, goes to a fallback deployment, or gets the answer as it came.
 * @module
 */
import { classifyUpstream } from "../rotation/mod.ts";
import { redact } from "../secrets/mod.ts";
import { readBounded } from "../utils/mod.ts";
import type { Trial } from "./call_key.ts";
import { finishError } from "./error_answer.ts";
import type { FailoverState, ReadExchange } from "./exchange.ts";
import { noKey } from "./pick_key.ts";
import { resourceKeyUnavailable } from "./pin.ts";
import { relay } from "./relay.ts";
import { relayOut } from "./relay_out.ts";
import { type Attempt, rebuild } from "./upstream_call.ts";

/**
 * What the failover loop does next: answer the client (the answer itself), or try another key
 * after a wait.
 */
export type Judgement = Response | { backoffMs?: number };

/** A try to judge, and where it stands in the loop. */
export interface Judged extends Trial {
  /** The try's number, from 1 (the backoff grows with it). */
  number: number;
  /** The loop's memory, updated with this try. */
  state: FailoverState;
}

/**
 * Judges a try.
 * @param exchange The request, its body read.
 * @param trial The try, its number and the loop's state.
 * @returns The answer for the client, or the wait before the next try: at once when no more
 *   reading is needed (a stream, a failure), else a promise.
 * @throws {HttpError} When the try's failure ends the request (a client that left, a body that
 *   cannot be sent again, a pinned key Google retired).
 */
export function judge(exchange: ReadExchange, trial: Judged): Judgement | Promise<Judgement> {
  const { outcome } = trial;
  if (outcome.kind === "response") {
    exchange.record.ttfbMs = exchange.app.now() - exchange.record.time;
    if (outcome.response.status < 400) return served(exchange, trial);
    return judgeError(exchange, { ...trial, response: outcome.response });
  }
  return judgeFailure(exchange, trial, outcome);
}

/** A try that got no answer: the next try after a backoff, unless the failure ends the request. */
function judgeFailure(
  exchange: ReadExchange,
  trial: Judged,
  outcome: Extract<Attempt, { kind: "failed" }>,
): Judgement {
  const { app, record, body, pinned } = exchange;
  record.errorClass = outcome.verdict.errorClass;
  trial.state.lastVerdict = outcome.verdict;
  if (exchange.request.signal.aborted) throw outcome.error;
  trial.state.transient.push({ key: trial.key, status: 0, verdict: outcome.verdict });
  if (!body.replayable || pinned) throw outcome.error;
  return { backoffMs: app.config.retryBackoffMs * trial.number };
}

/** An answer under 400: the key is healthy, the model confirmed, the answer relayed. */
function served(exchange: ReadExchange, trial: Judged): Response | Promise<Response> {
  const { app, model, record } = exchange;
  const response = (trial.outcome as { response: Response }).response;
  if (model !== null && response.ok) app.models.confirm(model);
  app.poolSync.noteSuccess(trial.key, trial.state.transient);
  record.status = response.status;
  return relay(exchange, { key: trial.key, upstream: response });
}

/** An error answer: read, classified, its verdict applied to the key. */
async function judgeError(
  exchange: ReadExchange,
  trial: Judged & { response: Response },
): Promise<Judgement> {
  const { app, model, record, body, pinned } = exchange;
  const { key, response, state } = trial;
  // Google does not echo keys in errors; masking the one used makes sure of it.
  const text = redact(await readBounded(response), [key.value]);
  const verdict = classifyUpstream(response.status, text, {
    now: app.now(),
    defaultCooldownMs: app.config.defaultCooldownMs,
  });
  trial.attempt.errorClass = verdict.errorClass;
  app.poolSync.noteError(key, { model, status: response.status, verdict });
  if (verdict.action === "retry") state.transient.push({ key, status: response.status, verdict });
  const read = rebuild(response, text);
  state.last = { kind: "response", response: read };
  state.lastVerdict = verdict;
  if (verdict.errorClass === "location") {
    const answer = await relayOut(exchange, "location");
    if (answer) return answer;
  }
  if (verdict.action === "disable" && (!body.replayable || pinned)) {
    record.errorClass = verdict.errorClass;
    throw pinned
      ? resourceKeyUnavailable(`Resource "${pinned.resource}"`, true)
      : noKey(app, model);
  }
  if (verdict.action === "pass" || !body.replayable || pinned) {
    return finishError(exchange, { response: read, text, errorClass: verdict.errorClass });
  }
  app.logger.log("info", "failing over", {
    key: key.record.masked,
    status: response.status,
    errorClass: verdict.errorClass,
    attempt: trial.number,
  });
  return verdict.action === "retry" ? { backoffMs: app.config.retryBackoffMs * trial.number } : {};
}
