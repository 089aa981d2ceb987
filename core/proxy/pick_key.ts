/**
 * Stage 7, pick key: the key for the next try. The pinned one, else the pool's pick that has room
 * under its caps, waiting for one to free up when configured to.
 * @module
 */
import type { HttpError } from "../errors.ts";
import type { ActiveKey, Pick } from "../rotation/mod.ts";
import type { FailoverState, ProxyApp, ReadExchange } from "./exchange.ts";
import { noUsableKey } from "./no_usable_key.ts";

/**
 * The key for the next try, or null when every usable key was tried.
 * @param exchange The request.
 * @param state The keys tried so far.
 * @throws {HttpError} 503 or 429 when no key can serve the model at all.
 */
export async function pickKey(
  exchange: ReadExchange,
  state: FailoverState,
): Promise<ActiveKey | null> {
  if (exchange.pinned) return exchange.pinned.key;
  const { app, model } = exchange;
  let pick = await takeKey(app, { model, skip: state.tried });
  if (pick.key) return pick.key;
  if (state.last !== null) return null;
  if (app.registry.enabledKeys.length === 0) throw noKey(app, model);
  const wait = pick.earliest === null ? Infinity : pick.earliest - app.now();
  if (wait > 0 && wait <= app.config.waitWhenExhaustedMs) {
    await app.sleep(wait);
    pick = await takeKey(app, { model, skip: state.tried });
    if (pick.key) return pick.key;
  }
  throw noKey(app, model);
}

/**
 * Picks a key and counts the request against its caps; a key found capped is passed over.
 * @param app The pool and the caps.
 * @param want The model and the keys to pass over.
 */
export async function takeKey(
  app: ProxyApp,
  want: { model: string | null; skip: ReadonlySet<string> },
): Promise<Pick> {
  let skip = want.skip;
  for (;;) {
    const pick = app.pool.pick(want.model, skip);
    if (!pick.key || await app.caps.take(pick.key, want.model)) return pick;
    skip = new Set([...skip, pick.key.id]);
  }
}

/**
 * The pool's answer when no key can serve the model (503 or 429, see `noUsableKey`).
 * @param app The registry, pool and clock.
 * @param model The model asked for.
 */
export function noKey(app: ProxyApp, model: string | null): HttpError {
  return noUsableKey(model, { registry: app.registry, pool: app.pool, now: app.now() });
}
