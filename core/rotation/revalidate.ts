/**
 * Checking keys against Google: a cheap `models.list` call whose answer goes through the same
 * classifier as proxied requests. Google's acceptance re-enables a key, Google's verdict against it
 * disables it with the reason, and anything else (5xx, timeout, no answer, an answer that says
 * nothing about the key) leaves the key as it was.
 * @module
 */
import { classifyFailure, classifyUpstream, type Verdict } from "./classify.ts";
import type { Registry } from "./registry.ts";
import type { Store } from "../store/mod.ts";
import { readBounded } from "../utils/mod.ts";

/**
 * The reason recorded when an operator disables a key. Such a key stays out of rotation until an
 * operator enables it: the background re-validation passes over it.
 */
export const DISABLED_BY_ADMIN = "disabled by admin";

/**
 * Keys the background re-validation should check: those a verdict took out of rotation, not those
 * an operator switched off.
 * @param keys The registry's keys.
 * @returns Their ids.
 */
export function revalidationCandidates(
  keys: ReadonlyArray<{ id: string; record: { enabled: boolean; disabledReason?: string } }>,
): string[] {
  return keys
    .filter((k) => !k.record.enabled && k.record.disabledReason !== DISABLED_BY_ADMIN)
    .map((k) => k.id);
}

/** Outcome for one key. */
export interface ValidationResult {
  /** Key id. */
  keyId: string;
  /** Masked key. */
  masked: string;
  /** HTTP status upstream answered (0 when unreachable). */
  status: number;
  /** Whether upstream accepted the key. */
  valid: boolean;
  /**
   * `valid`: Google accepted the key; `invalid`: Google's verdict condemns it; `unknown`: the
   * answer said nothing about the key (a 5xx, a timeout, no answer).
   */
  verdict: "valid" | "invalid" | "unknown";
  /** Google's reason when the key was condemned, or what got in the way of a verdict. */
  reason?: string;
  /** Whether this call re-enabled the key. */
  reenabled: boolean;
  /** Whether this call disabled the key. */
  disabled: boolean;
}

/** Options of {@linkcode validateKeys}. */
export interface ValidateOptions {
  /** Source of the key values. */
  registry: Registry;
  /** Where enabling and disabling are written. */
  store: Store;
  /** Upstream base URL. */
  upstreamUrl: string;
  /** Cloudflare AI Gateway token, if any. */
  cfAigToken?: string | undefined;
  /** fetch for the upstream call. */
  fetch: typeof fetch;
  /** Re-enable disabled keys that pass (default true). */
  reenable?: boolean;
  /** Clock. */
  now: () => number;
  /** Longest wait for Google's answer, ms (default 15 s). */
  timeoutMs?: number;
}

/**
 * Checks keys against upstream with `GET /v1beta/models?pageSize=1`: re-enables disabled keys that
 * pass, disables keys Google condemns (recording its reason).
 * @param ids Key ids to check.
 * @param options The registry and store, upstream and I/O.
 * @returns One result per known key id.
 */
export async function validateKeys(
  ids: readonly string[],
  options: ValidateOptions,
): Promise<ValidationResult[]> {
  const { registry, store } = options;
  const results: ValidationResult[] = [];
  for (const id of ids) {
    const key = registry.keyById(id);
    if (!key) continue;
    const { status, verdict } = await check(key.value, options);
    const result: ValidationResult = {
      keyId: id,
      masked: key.record.masked,
      status,
      valid: status === 200,
      verdict: status === 200 ? "valid" : verdict?.action === "disable" ? "invalid" : "unknown",
      reenabled: false,
      disabled: false,
    };
    if (verdict && status !== 200) result.reason = verdict.reason;
    const enable = result.verdict === "valid" && !key.record.enabled &&
      options.reenable !== false;
    const disable = result.verdict === "invalid" &&
      (key.record.enabled || key.record.disabledReason !== result.reason);
    if (enable || disable) {
      const updated = await store.setKeyEnabled(id, enable, {
        reason: result.reason,
        at: options.now(),
      });
      if (updated) {
        registry.patchKey(updated, Promise.resolve(updated));
        result.reenabled = enable;
        result.disabled = disable && key.record.enabled;
      }
    }
    results.push(result);
  }
  return results;
}

/** One `models.list` call with the key, classified. */
async function check(
  value: string,
  options: ValidateOptions,
): Promise<{ status: number; verdict: Verdict | null }> {
  const headers: Record<string, string> = { "x-goog-api-key": value };
  if (options.cfAigToken) headers["cf-aig-authorization"] = `Bearer ${options.cfAigToken}`;
  let response: Response;
  try {
    response = await options.fetch(`${options.upstreamUrl}/v1beta/models?pageSize=1`, {
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { status: 0, verdict: classifyFailure(timedOut) };
  }
  if (response.status === 200) {
    await response.body?.cancel();
    return { status: 200, verdict: null };
  }
  const text = await readBounded(response);
  return {
    status: response.status,
    verdict: classifyUpstream(response.status, text, { now: options.now() }),
  };
}
