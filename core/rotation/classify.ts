/**
 * Reads an upstream error and decides what it means for the key that got it.
 *
 * Google repeats client input inside its error messages (`Unknown name "<field>"`,
 * `models/<name> is not found`, values in field violations), so a message that merely contains a
 * phrase proves nothing about the key. Only the structured parts of Google's answer are verdicts:
 * an `ErrorInfo` reason in the `googleapis.com` domain retires a key, `QuotaFailure` and
 * `RetryInfo` rest it. Text is compared only for the few detail-less shapes Google sends about a
 * key, and then as the whole message, never a substring. Everything else is the caller's answer
 * and costs no key anything.
 * @module
 */
import { nextPacificMidnight } from "../utils/mod.ts";

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

type Detail = Record<string, unknown>;

interface Envelope {
  message: string;
  status: string;
  details: Detail[];
}

const TYPE_PREFIX = "type.googleapis.com/google.rpc.";
/** The domain of Google's own ErrorInfo reasons (the proxy's are `gemini-proxy`). */
const GOOGLE_DOMAIN = "googleapis.com";

/**
 * ErrorInfo reasons that condemn the key itself. Restrictions that depend on request headers
 * (referrer, Android or iOS app) are absent on purpose: a client could provoke them.
 */
const RETIRING: Record<string, "key_invalid" | "key_forbidden"> = {
  API_KEY_INVALID: "key_invalid",
  API_KEY_EXPIRED: "key_invalid",
  SERVICE_DISABLED: "key_forbidden",
  API_KEY_SERVICE_BLOCKED: "key_forbidden",
  CONSUMER_SUSPENDED: "key_forbidden",
};

/**
 * The detail-less answers Google gives about a key, as whole messages. `[^']*` stands for the
 * consumer Google names, which is the key itself (already masked), never client input.
 */
const BARE_KEY_VERDICTS: ReadonlyArray<{
  code: number;
  status: string;
  message: RegExp;
  errorClass: "key_invalid" | "key_forbidden";
  reason: string;
}> = [
  {
    code: 400,
    status: "INVALID_ARGUMENT",
    message: /^API key not valid\. Please pass a valid API key\.$/,
    errorClass: "key_invalid",
    reason: "API_KEY_INVALID",
  },
  {
    code: 400,
    status: "INVALID_ARGUMENT",
    message: /^API key expired\. Please renew the API key\.$/,
    errorClass: "key_invalid",
    reason: "API_KEY_EXPIRED",
  },
  {
    code: 403,
    status: "PERMISSION_DENIED",
    message: /^Your API key was reported as leaked\. Please use another API key\.$/,
    errorClass: "key_forbidden",
    reason: "API_KEY_LEAKED",
  },
  {
    code: 403,
    status: "PERMISSION_DENIED",
    message: /^Permission denied: Consumer '[^']*' has been suspended\.$/,
    errorClass: "key_forbidden",
    reason: "CONSUMER_SUSPENDED",
  },
];

/** Google's refusal of a region; its start is fixed, variants add a clause at the end. */
const LOCATION = /^User location is not supported for the API use\b/;

/**
 * Classifies an upstream error response.
 * @param status HTTP status.
 * @param body The response body text (an error envelope, possibly wrapped in an array).
 * @param options Clock and defaults.
 * @returns The verdict; successful statuses are never passed here.
 */
export function classifyUpstream(status: number, body: string, options: ClassifyOptions): Verdict {
  const error = parseEnvelope(body);
  if (status === 429) return classifyQuota(error?.details ?? [], options);
  if (status >= 500 || status === 408) {
    return {
      errorClass: status === 504 || status === 408 ? "timeout" : "upstream_unavailable",
      action: "retry",
      reason: error?.status || `HTTP_${status}`,
    };
  }
  const keyVerdict = error && (status === 400 || status === 401 || status === 403)
    ? keyVerdictOf(status, error)
    : null;
  if (keyVerdict) return keyVerdict;
  if (
    status === 400 && error?.status === "FAILED_PRECONDITION" && LOCATION.test(error.message)
  ) {
    return { errorClass: "location", action: "pass", reason: "LOCATION_NOT_SUPPORTED" };
  }
  return { errorClass: "client_error", action: "pass", reason: error?.status || `HTTP_${status}` };
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

/**
 * Whether a verdict is about the key itself (and so belongs in its health record), rather than
 * about the request, the model's capacity or the network.
 * @param verdict A verdict from {@linkcode classifyUpstream}.
 */
export function isKeyVerdict(verdict: Verdict): boolean {
  return verdict.action === "disable" || verdict.action === "cooldown";
}

/** A verdict that retires the key, from Google's ErrorInfo or a bare message about the key. */
function keyVerdictOf(code: number, error: Envelope): Verdict | null {
  for (const info of ofType(error.details, "ErrorInfo")) {
    if (info.domain !== GOOGLE_DOMAIN || typeof info.reason !== "string") continue;
    const errorClass = RETIRING[info.reason];
    if (errorClass) return { errorClass, action: "disable", reason: info.reason };
  }
  if (error.details.length > 0) return null;
  const bare = BARE_KEY_VERDICTS.find((v) =>
    v.code === code && v.status === error.status && v.message.test(error.message)
  );
  return bare ? { errorClass: bare.errorClass, action: "disable", reason: bare.reason } : null;
}

function classifyQuota(details: Detail[], options: ClassifyOptions): Verdict {
  const quotaIds: string[] = [];
  let model: string | undefined;
  for (const failure of ofType(details, "QuotaFailure")) {
    const violations = Array.isArray(failure.violations) ? failure.violations : [];
    for (const v of violations as Array<Record<string, unknown> | null>) {
      const id = v?.quotaId ?? v?.quotaMetric;
      if (typeof id === "string") quotaIds.push(id);
      const dims = v?.quotaDimensions as Record<string, unknown> | undefined;
      if (typeof dims?.model === "string" && dims.model !== "") model ??= dims.model;
    }
  }
  let retryMs: number | null = null;
  for (const retry of ofType(details, "RetryInfo")) {
    retryMs ??= parseDuration(retry.retryDelay);
  }
  const reason = quotaIds[0] || "RESOURCE_EXHAUSTED";
  const day = quotaIds.some((id) => /PerDay/i.test(id));
  return {
    errorClass: day ? "quota_day" : "quota_minute",
    action: "cooldown",
    until: day
      ? nextPacificMidnight(options.now)
      : options.now + (retryMs ?? options.defaultCooldownMs ?? 60_000),
    reason,
    ...(model ? { model } : {}),
  };
}

/** The details of one `google.rpc` type. */
function ofType(details: Detail[], type: string): Detail[] {
  return details.filter((d) => d["@type"] === TYPE_PREFIX + type);
}

function parseEnvelope(body: string): Envelope | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (Array.isArray(value)) value = value[0];
  const error = (value as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (!error || typeof error !== "object") return null;
  const details = Array.isArray(error.details)
    ? error.details.filter((d): d is Detail => d !== null && typeof d === "object")
    : [];
  return {
    message: typeof error.message === "string" ? error.message : "",
    status: typeof error.status === "string" ? error.status : "",
    details,
  };
}

/** Parses a protobuf Duration such as `38s` or `1.5s` into ms. */
function parseDuration(text: unknown): number | null {
  const match = typeof text === "string" ? text.match(/^(\d+(?:\.\d+)?)s$/) : null;
  return match ? Math.ceil(Number(match[1]) * 1000) : null;
}
