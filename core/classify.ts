/**
 * Reads an upstream error and decides what it means for the key that got it.
 *
 * Gemini reports quota per project and model, tells per-minute from per-day limits in
 * `QuotaFailure.quotaId`, and says how long to wait in `RetryInfo`. Payload errors are the
 * caller's fault and must never cost a key anything.
 * @module
 */
import { nextPacificMidnight } from "./pacific_time.ts";

/** Error classes, as logged and counted. */
export type ErrorClass =
  | "quota_minute"
  | "quota_day"
  | "key_invalid"
  | "key_forbidden"
  | "upstream_unavailable"
  | "timeout"
  | "network"
  | "location"
  | "client_error";

/** What the proxy does about an upstream answer. */
export interface Verdict {
  /** The class of the error. */
  errorClass: ErrorClass;
  /**
   * `cooldown`: rest the key (its project when labelled) for the model, then try another key;
   * `disable`: take the key out of rotation, then try another; `retry`: try another key without
   * blaming this one; `pass`: give the answer to the client as it is.
   */
  action: "cooldown" | "disable" | "retry" | "pass";
  /** For `cooldown`: the moment (epoch ms) the key may serve the model again. */
  until?: number;
  /** Short machine-readable reason (ErrorInfo.reason, quotaId, or status). */
  reason: string;
  /** For quota errors: the model the quota belongs to, from `QuotaFailure.quotaDimensions`. */
  model?: string;
}

/** Options of {@linkcode classifyUpstream}. */
export interface ClassifyOptions {
  /** Current time (epoch ms). */
  now: number;
  /** Cooldown when a per-minute 429 gives no delay (default 60 s). */
  defaultCooldownMs?: number;
}

interface Envelope {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<Record<string, unknown>>;
}

/**
 * Classifies an upstream error response.
 * @param status HTTP status.
 * @param body The response body text (an error envelope, possibly wrapped in an array).
 * @param options Clock and defaults.
 * @returns The verdict; successful statuses are never passed here.
 */
export function classifyUpstream(status: number, body: string, options: ClassifyOptions): Verdict {
  const error = parseEnvelope(body);
  const message = error?.message ?? "";
  const details = error?.details ?? [];
  const reasons = details
    .filter((d) => String(d["@type"]).endsWith("google.rpc.ErrorInfo"))
    .map((d) => String(d.reason ?? ""));
  const has = (reason: string) => reasons.includes(reason);

  if (status === 429) return classifyQuota(message, details, options);
  if (status >= 500 || status === 408) {
    return {
      errorClass: status === 504 || status === 408 ? "timeout" : "upstream_unavailable",
      action: "retry",
      reason: error?.status ?? `HTTP_${status}`,
    };
  }
  if (
    has("API_KEY_INVALID") || has("API_KEY_EXPIRED") || /API key (not valid|expired)/i.test(message)
  ) {
    return {
      errorClass: "key_invalid",
      action: "disable",
      reason: reasons[0] || "API_KEY_INVALID",
    };
  }
  if (status === 403) {
    const blocked = reasons.find((r) =>
      r === "SERVICE_DISABLED" || r === "API_KEY_SERVICE_BLOCKED" || r.startsWith("API_KEY_")
    );
    if (blocked) return { errorClass: "key_forbidden", action: "disable", reason: blocked };
    if (/reported as leaked/i.test(message)) {
      return { errorClass: "key_forbidden", action: "disable", reason: "API_KEY_LEAKED" };
    }
    if (/unregistered callers/i.test(message)) {
      return { errorClass: "key_invalid", action: "disable", reason: "API_KEY_MISSING" };
    }
  }
  if (status === 400 && /location is not supported/i.test(message)) {
    return { errorClass: "location", action: "pass", reason: "LOCATION_NOT_SUPPORTED" };
  }
  return { errorClass: "client_error", action: "pass", reason: error?.status ?? `HTTP_${status}` };
}

/**
 * Classifies a failure to get any answer (connection refused, reset, timeout).
 * @param timedOut Whether the proxy's own header timeout fired.
 */
export function classifyFailure(timedOut: boolean): Verdict {
  return timedOut
    ? { errorClass: "timeout", action: "retry", reason: "UPSTREAM_TIMEOUT" }
    : { errorClass: "network", action: "retry", reason: "UPSTREAM_UNREACHABLE" };
}

function classifyQuota(
  message: string,
  details: Array<Record<string, unknown>>,
  options: ClassifyOptions,
): Verdict {
  const quotaIds: string[] = [];
  let model: string | undefined;
  let retryMs: number | null = null;
  for (const detail of details) {
    const type = String(detail["@type"]);
    if (type.endsWith("google.rpc.QuotaFailure")) {
      for (const v of (detail.violations as Array<Record<string, unknown>> | undefined) ?? []) {
        quotaIds.push(String(v.quotaId ?? v.quotaMetric ?? ""));
        const dims = v.quotaDimensions as Record<string, unknown> | undefined;
        if (typeof dims?.model === "string") model ??= dims.model;
      }
    } else if (type.endsWith("google.rpc.RetryInfo")) {
      retryMs = parseDuration(String(detail.retryDelay ?? ""));
    }
  }
  const reason = quotaIds[0] || "RESOURCE_EXHAUSTED";
  if (quotaIds.some((id) => /PerDay/i.test(id))) {
    return {
      errorClass: "quota_day",
      action: "cooldown",
      until: nextPacificMidnight(options.now),
      reason,
      ...(model ? { model } : {}),
    };
  }
  retryMs ??= parseRetryIn(message);
  const wait = retryMs ?? options.defaultCooldownMs ?? 60_000;
  return {
    errorClass: "quota_minute",
    action: "cooldown",
    until: options.now + wait,
    reason,
    ...(model ? { model } : {}),
  };
}

function parseEnvelope(body: string): Envelope | null {
  try {
    let value = JSON.parse(body) as unknown;
    if (Array.isArray(value)) value = value[0];
    const error = (value as { error?: Envelope } | null)?.error;
    return error && typeof error === "object" ? error : null;
  } catch {
    return null;
  }
}

/** Parses a protobuf Duration such as `38s` or `1.5s` into ms. */
function parseDuration(text: string): number | null {
  const match = text.match(/^(\d+(?:\.\d+)?)s$/);
  return match ? Math.ceil(Number(match[1]) * 1000) : null;
}

/** Reads "Please retry in 38.52s." (or "in 120ms") from a quota message. */
function parseRetryIn(message: string): number | null {
  const match = message.match(/retry in (\d+(?:\.\d+)?)(ms|s)\b/i);
  if (!match) return null;
  const value = Number(match[1]);
  return Math.ceil(match[2] === "ms" ? value : value * 1000);
}
