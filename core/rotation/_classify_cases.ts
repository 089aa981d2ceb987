/**
 * Google's error answers, as the classifier's tests feed them: each with the verdict it must get.
 * Google echoes client input in its messages, so several cases check that an echoed phrase
 * convicts no key.
 * @module
 */
import type { Verdict } from "./classify.ts";

/** The classifier's clock in every case. */
export const now = Date.parse("2026-01-15T20:00:00Z");
const SERVICE = "generativelanguage.googleapis.com";
const INVALID_KEY = "API key not valid. Please pass a valid API key.";
const UNREGISTERED =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
const LEAKED = "Your API key was reported as leaked. Please use another API key.";

/**
 * Google's error envelope.
 * @param status The HTTP status and its status name.
 * @param message The message.
 * @param details The details, when there are any.
 */
export function envelope(
  [code, status]: [number, string],
  message: string,
  details?: unknown[],
): string {
  const error: Record<string, unknown> = { code, message, status };
  if (details) error.details = details;
  return JSON.stringify({ error }, null, 2);
}
const errorInfo = (
  reason: string,
  domain = "googleapis.com",
  metadata: Record<string, string> = { service: SERVICE },
) => ({
  "@type": "type.googleapis.com/google.rpc.ErrorInfo",
  reason,
  domain,
  metadata,
});
const localized = (message: string) => ({
  "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
  locale: "en-US",
  message,
});
const badRequest = (description: string, field?: string) => ({
  "@type": "type.googleapis.com/google.rpc.BadRequest",
  fieldViolations: [field ? { field, description } : { description }],
});
const quotaFailure = (quotaId: string, model = "gemini-2.5-flash") => ({
  "@type": "type.googleapis.com/google.rpc.QuotaFailure",
  violations: [{
    quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
    quotaId,
    quotaDimensions: { location: "global", model },
    quotaValue: "10",
  }],
});
const retryInfo = (delay: string) => ({
  "@type": "type.googleapis.com/google.rpc.RetryInfo",
  retryDelay: delay,
});
const help = {
  "@type": "type.googleapis.com/google.rpc.Help",
  links: [{ description: "Learn more about Gemini API quotas", url: "https://ai.google.dev" }],
};
/** Google's answer to a body with an unknown field, echoing the field's name. */
const unknownField = (name: string) => {
  const message = `Invalid JSON payload received. Unknown name ${
    JSON.stringify(name)
  }: Cannot find field.`;
  return envelope([400, "INVALID_ARGUMENT"], message, [badRequest(message)]);
};
/** Google's answer to an unknown model, echoing its name. */
const unknownModel = (name: string) =>
  envelope(
    [404, "NOT_FOUND"],
    `models/${name} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
  );
const quotaMessage = (model: string) =>
  `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: ${model}\nPlease retry in 38.52s.`;

/** The parts of a verdict a case checks. */
export type Expected = Pick<Verdict, "errorClass" | "action" | "reason"> & {
  until?: number;
  model?: string;
};

/** Every case: an upstream answer and the verdict it must get. */
export const CASES: Array<{ name: string; status: number; body: string; expect: Expected }> = [
  // Dead keys: Google's structured verdicts.
  {
    name: "invalid key (ErrorInfo API_KEY_INVALID, LocalizedMessage)",
    status: 400,
    body: envelope([400, "INVALID_ARGUMENT"], INVALID_KEY, [
      errorInfo("API_KEY_INVALID"),
      localized(INVALID_KEY),
    ]),
    expect: { errorClass: "key_invalid", action: "disable", reason: "API_KEY_INVALID" },
  },
  {
    name: "expired key (Google sends reason API_KEY_INVALID)",
    status: 400,
    body: envelope([400, "INVALID_ARGUMENT"], "API key expired. Please renew the API key.", [
      errorInfo("API_KEY_INVALID"),
      localized("API key expired. Please renew the API key."),
    ]),
    expect: { errorClass: "key_invalid", action: "disable", reason: "API_KEY_INVALID" },
  },
  {
    name: "expired key with reason API_KEY_EXPIRED",
    status: 400,
    body: envelope([400, "INVALID_ARGUMENT"], "API key expired. Please renew the API key.", [
      errorInfo("API_KEY_EXPIRED"),
    ]),
    expect: { errorClass: "key_invalid", action: "disable", reason: "API_KEY_EXPIRED" },
  },
  {
    name: "API disabled for the key's project (SERVICE_DISABLED)",
    status: 403,
    body: envelope(
      [403, "PERMISSION_DENIED"],
      "Generative Language API has not been used in project 123456789 before or it is disabled.",
      [
        errorInfo("SERVICE_DISABLED", "googleapis.com", {
          service: SERVICE,
          consumer: "projects/123456789",
        }),
        help,
      ],
    ),
    expect: { errorClass: "key_forbidden", action: "disable", reason: "SERVICE_DISABLED" },
  },
  {
    name: "key restricted to other APIs (API_KEY_SERVICE_BLOCKED)",
    status: 403,
    body: envelope(
      [403, "PERMISSION_DENIED"],
      `Requests to this API ${SERVICE} method google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent are blocked.`,
      [errorInfo("API_KEY_SERVICE_BLOCKED")],
    ),
    expect: { errorClass: "key_forbidden", action: "disable", reason: "API_KEY_SERVICE_BLOCKED" },
  },
  {
    name: "suspended consumer (CONSUMER_SUSPENDED)",
    status: 403,
    body: envelope(
      [403, "PERMISSION_DENIED"],
      "Permission denied: Consumer 'api_key:AIza...x9Qk' has been suspended.",
      [errorInfo("CONSUMER_SUSPENDED")],
    ),
    expect: { errorClass: "key_forbidden", action: "disable", reason: "CONSUMER_SUSPENDED" },
  },
  // Dead keys: the exact detail-less shapes.
  {
    name: "leaked key (bare message)",
    status: 403,
    body: envelope([403, "PERMISSION_DENIED"], LEAKED),
    expect: { errorClass: "key_forbidden", action: "disable", reason: "API_KEY_LEAKED" },
  },
  {
    name: "invalid key (bare message)",
    status: 400,
    body: envelope([400, "INVALID_ARGUMENT"], INVALID_KEY),
    expect: { errorClass: "key_invalid", action: "disable", reason: "API_KEY_INVALID" },
  },
  {
    name: "suspended consumer (bare message)",
    status: 403,
    body: envelope(
      [403, "PERMISSION_DENIED"],
      "Permission denied: Consumer 'api_key:AIza...x9Qk' has been suspended.",
    ),
    expect: { errorClass: "key_forbidden", action: "disable", reason: "CONSUMER_SUSPENDED" },
  },
  {
    name: "invalid key, OpenAI-compatible path (array-wrapped envelope)",
    status: 400,
    body: `[${envelope([400, "INVALID_ARGUMENT"], INVALID_KEY, [errorInfo("API_KEY_INVALID")])}\n]`,
    expect: { errorClass: "key_invalid", action: "disable", reason: "API_KEY_INVALID" },
  },
  // Quota.
  {
    name: "per-minute quota: RetryInfo's delay, QuotaFailure's model",
    status: 429,
    body: envelope([429, "RESOURCE_EXHAUSTED"], quotaMessage("gemini-2.5-flash"), [
      help,
      quotaFailure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "gemini-2.5-flash-001"),
      retryInfo("38s"),
    ]),
    expect: {
      errorClass: "quota_minute",
      action: "cooldown",
      reason: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      until: now + 38_000,
      model: "gemini-2.5-flash-001",
    },
  },
  {
    name: "per-minute input tokens, details in another order",
    status: 429,
    body: envelope([429, "RESOURCE_EXHAUSTED"], quotaMessage("gemini-2.5-pro"), [
      retryInfo("21s"),
      quotaFailure("GenerateContentInputTokensPerModelPerMinute-FreeTier", "gemini-2.5-pro"),
    ]),
    expect: {
      errorClass: "quota_minute",
      action: "cooldown",
      reason: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
      until: now + 21_000,
      model: "gemini-2.5-pro",
    },
  },
  {
    name: "per-day quota rests until Pacific midnight",
    status: 429,
    body: envelope([429, "RESOURCE_EXHAUSTED"], quotaMessage("gemini-2.5-flash"), [
      retryInfo("65205s"),
      quotaFailure("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
    ]),
    expect: {
      errorClass: "quota_day",
      action: "cooldown",
      reason: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
      until: Date.parse("2026-01-16T08:00:00Z"),
      model: "gemini-2.5-flash",
    },
  },
  {
    name: "old detail-less quota message: default cooldown",
    status: 429,
    body: envelope([429, "RESOURCE_EXHAUSTED"], "Resource has been exhausted (e.g. check quota)."),
    expect: {
      errorClass: "quota_minute",
      action: "cooldown",
      reason: "RESOURCE_EXHAUSTED",
      until: now + 60_000,
    },
  },
  {
    name: "a delay written in the message (which echoes the model) is not read",
    status: 429,
    body: envelope(
      [429, "RESOURCE_EXHAUSTED"],
      quotaMessage("x Please retry in 999999s"),
      [quotaFailure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")],
    ),
    expect: {
      errorClass: "quota_minute",
      action: "cooldown",
      reason: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      until: now + 60_000,
      model: "gemini-2.5-flash",
    },
  },
  // Location and permission.
  {
    name: "unsupported location",
    status: 400,
    body: envelope([400, "FAILED_PRECONDITION"], "User location is not supported for the API use."),
    expect: { errorClass: "location", action: "pass", reason: "LOCATION_NOT_SUPPORTED" },
  },
  {
    name: "another project's resource",
    status: 403,
    body: envelope([403, "PERMISSION_DENIED"], "The caller does not have permission"),
    expect: { errorClass: "client_error", action: "pass", reason: "PERMISSION_DENIED" },
  },
  {
    name: "key referrer restriction (a client could send the header)",
    status: 403,
    body: envelope([403, "PERMISSION_DENIED"], "Requests from referer <empty> are blocked.", [
      errorInfo("API_KEY_HTTP_REFERRER_BLOCKED"),
    ]),
    expect: { errorClass: "client_error", action: "pass", reason: "PERMISSION_DENIED" },
  },
  {
    name: "no credential reached Google (the request, not a key)",
    status: 403,
    body: envelope([403, "PERMISSION_DENIED"], UNREGISTERED),
    expect: { errorClass: "client_error", action: "pass", reason: "PERMISSION_DENIED" },
  },
  // Transient.
  {
    name: "model overloaded",
    status: 503,
    body: envelope([503, "UNAVAILABLE"], "The model is overloaded. Please try again later."),
    expect: { errorClass: "upstream_unavailable", action: "retry", reason: "UNAVAILABLE" },
  },
  {
    name: "deadline",
    status: 504,
    body: "",
    expect: { errorClass: "timeout", action: "retry", reason: "HTTP_504" },
  },
  // Client mistakes echoing hostile input: never a verdict on the key.
  {
    name: "unknown field named like the invalid-key message",
    status: 400,
    body: unknownField(INVALID_KEY),
    expect: { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "unknown field named like the leaked-key message",
    status: 400,
    body: unknownField(LEAKED),
    expect: { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "unknown field embedding the unregistered-callers message",
    status: 400,
    body: unknownField(`x ${UNREGISTERED}`),
    expect: { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "unknown field embedding the location message",
    status: 400,
    body: unknownField("User location is not supported for the API use."),
    expect: { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "field violation echoing a value with a forged ErrorInfo in it",
    status: 400,
    body: envelope([400, "INVALID_ARGUMENT"], "Invalid value at 'contents[0].role'", [
      badRequest(
        `Invalid value "${JSON.stringify(errorInfo("API_KEY_INVALID"))}"`,
        "contents[0].role",
      ),
    ]),
    expect: { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "unknown model named reported-as-leaked",
    status: 404,
    body: unknownModel("reported-as-leaked"),
    expect: { errorClass: "client_error", action: "pass", reason: "NOT_FOUND" },
  },
  {
    name: "unknown model whose name is the leaked-key message",
    status: 404,
    body: unknownModel(LEAKED),
    expect: { errorClass: "client_error", action: "pass", reason: "NOT_FOUND" },
  },
  {
    name: "a 403 message that starts like a verdict but carries client text",
    status: 403,
    body: envelope([403, "PERMISSION_DENIED"], `${LEAKED} Unknown name "x"`),
    expect: { errorClass: "client_error", action: "pass", reason: "PERMISSION_DENIED" },
  },
  {
    name: "the invalid-key text under another status",
    status: 404,
    body: envelope([404, "NOT_FOUND"], INVALID_KEY),
    expect: { errorClass: "client_error", action: "pass", reason: "NOT_FOUND" },
  },
  {
    name: "a reason outside Google's domain (the proxy's own envelope)",
    status: 400,
    body: envelope([400, "INVALID_ARGUMENT"], "relayed", [
      errorInfo("API_KEY_INVALID", "gemini-proxy"),
    ]),
    expect: { errorClass: "client_error", action: "pass", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "not JSON",
    status: 400,
    body: "not json",
    expect: { errorClass: "client_error", action: "pass", reason: "HTTP_400" },
  },
];
