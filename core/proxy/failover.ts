/**
 * The failover loop: stages 7 to 9 (pick a key, call upstream, judge) until an answer comes, the
 * keys or `MAX_ATTEMPTS` run out, or the request's wait for headers is spent. Nothing has reached
 * the client while it runs, so any key may take the next try.
 * @module
 */
import { isKeyVerdict } from "../rotation/mod.ts";
import { keyCall, noteAttempt } from "./call_key.ts";
import { upstreamSearch } from "./credentials.ts";
import { finishError } from "./error_answer.ts";
import type { FailoverState, ReadExchange } from "./exchange.ts";
import { judge } from "./judge.ts";
import { noKey, pickKey } from "./pick_key.ts";
import { callUpstream, rebuild } from "./upstream_call.ts";

/**
 * Tries keys in turn until one answers.
 * @param exchange The request, its body read and admitted.
 * @returns The answer for the client.
 * @throws {HttpError} When no key can serve the request, or the last try failed without answer.
 */
export async function failover(exchange: ReadExchange): Promise<Response> {
  const state = startFailover(exchange);
  for (let number = 1; number <= exchange.app.config.maxAttempts; number++) {
    if (state.headersLeft && state.headersLeft() <= 0) break;
    const picking = pickKey(exchange, state);
    const key = picking instanceof Promise ? await picking : picking;
    if (!key) break;
    const call = keyCall(exchange, { key, state });
    const trial = noteAttempt(exchange, call, await callUpstream(call));
    state.last = trial.outcome;
    const judging = judge(exchange, { ...trial, number, state });
    const judgement = judging instanceof Promise ? await judging : judging;
    if (judgement instanceof Response) return judgement;
    if (judgement.backoffMs !== undefined) await exchange.app.sleep(judgement.backoffMs);
  }
  return await exhausted(exchange, state);
}

function startFailover(exchange: ReadExchange): FailoverState {
  const { app, route } = exchange;
  return {
    target: app.config.upstreamUrl + route.path + upstreamSearch(route.query),
    tried: new Set(),
    transient: [],
    last: null,
    lastVerdict: null,
    headersLeft: null,
  };
}

/** The answer once the loop ends without one: the last error, or the pool's own. */
async function exhausted(exchange: ReadExchange, state: FailoverState): Promise<Response> {
  const { app, model, record } = exchange;
  const { last, lastVerdict } = state;
  if (last === null) throw noKey(app, model);
  if (last.kind === "failed") throw last.error;
  const lastClass = record.attempts.at(-1)?.errorClass ?? null;
  // The last key was retired, or none is left for the model: the pool answers, in its own
  // words (Google's key-invalid text would read as a bad proxy token to an SDK).
  if (
    lastVerdict && isKeyVerdict(lastVerdict) &&
    (lastVerdict.action === "disable" || app.pool.pick(model).key === null)
  ) {
    await last.response.body?.cancel();
    record.errorClass = lastClass;
    throw noKey(app, model);
  }
  const text = await last.response.text();
  return finishError(exchange, {
    response: rebuild(last.response, text),
    text,
    errorClass: lastClass,
  });
}
