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
 * @returns The key at once when the pool has one without caps (nothing to await), else a
 * promise of it.
 * @throws {HttpError} 503 or 429 when no key can serve the model at all (as the promise's
 * rejection).
 */
export function pickKey(
  exchange: ReadExchange,
  state: FailoverState,
): ActiveKey | null | Promise<ActiveKey | null> {
  if (exchange.pinned) return exchange.pinned.key;
  const { app, model } = exchange;
  const pick = takeKey(app, { model, skip: state.tried });
  if (pick instanceof Promise) {
    return pick.then((p) => p.key ?? pickLater(exchange, state, p.earliest));
  }
  return pick.key ?? pickLater(exchange, state, pick.earliest);
}

/**
 * No key now: none (a retry), a wait for the earliest one, or the pool's refusal.
 * @param earliest When the first key frees up (epoch ms), if known.
 */
async function pickLater(
  exchange: ReadExchange,
  state: FailoverState,
  earliest: number | null,
): Promise<ActiveKey | null> {
  const { app, model } = exchange;
  if (state.last !== null) return null;
  if (app.registry.enabledKeys.length === 0) throw noKey(app, model);
  const wait = earliest === null ? Infinity : earliest - app.now();
  if (wait > 0 && wait <= app.config.waitWhenExhaustedMs) {
    await app.sleep(wait);
    const pick = await takeKey(app, { model, skip: state.tried });
    if (pick.key) return pick.key;
  }
  throw noKey(app, model);
}

/**
 * Picks a key and counts the request against its caps; a key found capped is passed over.
 * @param app The pool and the caps.
 * @param want The model and the keys to pass over.
 * @returns The pick at once when its key has no caps, else a promise of it.
 */
export function takeKey(
  app: ProxyApp,
  want: { model: string | null; skip: ReadonlySet<string> },
): Pick | Promise<Pick> {
  const pick = app.pool.pick(want.model, want.skip);
  if (!pick.key) return pick;
  const taken = app.caps.take(pick.key, want.model);
  // Keys without caps are taken at once: no promise, nothing to await.
  if (taken === true) return pick;
  return takeCapped(app, { ...want, pick, taken });
}

/** The first key whose caps let the request through, once the caps have answered. */
async function takeCapped(
  app: ProxyApp,
  want: {
    model: string | null;
    skip: ReadonlySet<string>;
    pick: Pick;
    taken: boolean | Promise<boolean>;
  },
): Promise<Pick> {
  let { skip, pick, taken } = want;
  for (;;) {
    if (!pick.key || await taken) return pick;
    skip = new Set([...skip, pick.key.id]);
    pick = app.pool.pick(want.model, skip);
    if (pick.key) taken = app.caps.take(pick.key, want.model);
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
