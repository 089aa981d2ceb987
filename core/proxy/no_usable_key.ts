/**
 * The proxy's own answer when no key can serve a request: why (keys disabled, keys resting) in
 * Google's envelope, so an SDK reports a service problem rather than a bad token. Google's own
 * key-invalid text never reaches a client.
 * @module
 */
import { type ErrorDetail, HttpError, retryInfo } from "../errors.ts";
import type { KeyPool, Registry } from "../rotation/mod.ts";

/** ErrorInfo reason of a 503 answered because no key can serve the request. */
export const NO_USABLE_KEY = "NO_USABLE_KEY";
/** ErrorInfo reason of a 429 answered because every usable key is resting. */
export const ALL_KEYS_COOLING = "ALL_KEYS_COOLING";

/** What {@linkcode noUsableKey} reads. */
export interface PoolView {
  /** Keys, enabled or not. */
  registry: Registry;
  /** Cooldowns and caps. */
  pool: KeyPool;
  /** Current time (epoch ms). */
  now: number;
}

/**
 * The answer for a request no key can serve.
 *
 * - `503 UNAVAILABLE`, reason `NO_USABLE_KEY`: no key is configured, every key is disabled, or the
 *   keys this request tried were just disabled. Nothing frees up by itself.
 * - `429 RESOURCE_EXHAUSTED`, reason `ALL_KEYS_COOLING`, with `Retry-After` and `RetryInfo`: some
 *   key is enabled but resting (quota cooldown or cap); it frees up at a known moment.
 *
 * Both carry `metadata` with the counts of keys `configured`, `disabled` and `cooling`.
 * @param model The model asked for (cooldowns are per model).
 * @param view The pool.
 * @returns The error to answer.
 */
export function noUsableKey(model: string | null, view: PoolView): HttpError {
  const { registry, pool, now } = view;
  const enabled = registry.enabledKeys;
  const configured = registry.keys.length;
  const cooling = enabled.filter((key) => pool.coolingUntil(key, model) > 0).length;
  const metadata = {
    configured: String(configured),
    disabled: String(configured - enabled.length),
    cooling: String(cooling),
  };
  if (configured === 0) {
    return unavailable(
      "No Gemini API key is configured: set GEMINI_API_KEYS or add keys in the admin console",
      metadata,
    );
  }
  if (enabled.length === 0) {
    return unavailable(
      `No Gemini API key is usable: all ${configured} keys are disabled (see the admin console)`,
      metadata,
    );
  }
  const pick = pool.pick(model);
  if (pick.key) {
    return unavailable(
      "No usable Gemini API key answered this request: the keys it tried were disabled; retry",
      metadata,
    );
  }
  const seconds = pick.earliest ? Math.max(1, Math.ceil((pick.earliest - now) / 1000)) : 60;
  const subject = model ? `model "${model}"` : "this request";
  return new HttpError(
    429,
    `Every Gemini API key is resting for ${subject}: retry in ${seconds}s`,
    {
      details: [errorInfo(ALL_KEYS_COOLING, metadata), retryInfo(seconds)],
      headers: { "retry-after": String(seconds) },
    },
  );
}

function unavailable(message: string, metadata: Record<string, string>): HttpError {
  return new HttpError(503, message, { details: [errorInfo(NO_USABLE_KEY, metadata)] });
}

function errorInfo(reason: string, metadata: Record<string, string>): ErrorDetail {
  return {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason,
    domain: "gemini-proxy",
    metadata,
  };
}
