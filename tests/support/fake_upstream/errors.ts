/**
 * The errors the fake sends, shaped like Google's: its envelope, the 4xx of a malformed request,
 * and every {@linkcode Failure} the fake can be told to simulate.
 * @module
 */

import {
  type Ctx,
  FAKE_PROJECT,
  type GoogleError,
  INVALID_KEY_MESSAGE,
  type Json,
  JSON_TYPE,
  NO_PERMISSION,
  type Owned,
  type Reply,
  SERVICE,
  SSE_TYPE,
} from "./state.ts";
import type { Failure } from "./types.ts";

/** The `error` member of a Google error envelope. */
export function gError(
  code: number,
  status: string,
  message: string,
  details?: Json[],
): GoogleError {
  const error: GoogleError = { code, message, status };
  if (details) error.details = details;
  return error;
}

/** Google's error envelope as a reply, wrapped in a JSON array where the request expects one. */
export function errorReply(ctx: Ctx, error: GoogleError): Reply {
  const body = ctx.wrapErrors
    ? `[${JSON.stringify({ error }, null, 2)}\n]`
    : JSON.stringify({ error }, null, 2) + "\n";
  return { status: error.code, contentType: ctx.sse ? SSE_TYPE : JSON_TYPE, body };
}

/** Google's 401 for a bearer token that is not an OAuth access token. */
export function unauthenticated(path: string): GoogleError {
  return gError(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    [{
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED",
      metadata: {
        service: SERVICE,
        method: `google.ai.generativelanguage.v1beta.${rpcName(path)}`,
      },
    }],
  );
}

/** The RPC a path calls, as Google names it in error details. */
export function rpcName(path: string): string {
  const method = /:([A-Za-z]+)$/.exec(path)?.[1] ?? "generateContent";
  return `GenerativeService.${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}

/** Google's 404. */
export function notFound(message = "Method not found."): GoogleError {
  return gError(404, "NOT_FOUND", message);
}

/** Google's 404 for a model that does not exist or lacks the method. */
export function modelNotFound(id: string, version: string, method: string): GoogleError {
  return notFound(
    `models/${id} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

/** Google's 400 INVALID_ARGUMENT with a BadRequest detail. */
export function badRequest(message: string, field?: string): GoogleError {
  const violation: Json = { description: message };
  if (field) violation.field = field;
  return gError(400, "INVALID_ARGUMENT", message, [
    { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [violation] },
  ]);
}

/** Google's 400 for a body that is not JSON. */
export function invalidJson(): GoogleError {
  return badRequest("Invalid JSON payload received. Unexpected token.");
}

/** The error Google sends for a failure the fake was told to simulate. */
export function failureError(
  failure: Failure,
  model: string | undefined,
  rpc: string,
): GoogleError {
  switch (failure.kind) {
    case "invalid_key":
      return gError(400, "INVALID_ARGUMENT", INVALID_KEY_MESSAGE, [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: SERVICE },
        },
        {
          "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
          locale: "en-US",
          message: INVALID_KEY_MESSAGE,
        },
      ]);
    case "permission_denied":
      return permissionDenied(failure.reason, rpc);
    case "quota":
      return quotaError(failure, model);
    case "status":
      if (failure.code === 500) {
        return gError(
          500,
          "INTERNAL",
          "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        );
      }
      if (failure.code === 503) {
        return gError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
      }
      return gError(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.");
    case "bad_request":
      return badRequest(
        "Invalid JSON payload received. Unknown name \"fake_field\" at 'generation_config': Cannot find field.",
        "generation_config",
      );
    case "location":
      return gError(400, "FAILED_PRECONDITION", "User location is not supported for the API use.");
    case "cut_stream":
    case "slow_first_byte":
      // Not errors by themselves; kept total so the switch stays exhaustive.
      return gError(500, "INTERNAL", `Failure ${failure.kind} cannot be sent as an error`);
  }
}

function permissionDenied(
  reason: "SERVICE_DISABLED" | "API_KEY_SERVICE_BLOCKED" | "LEAKED" | undefined,
  rpc: string,
): GoogleError {
  if (reason === "SERVICE_DISABLED") {
    const activationUrl =
      `https://console.developers.google.com/apis/api/${SERVICE}/overview?project=${FAKE_PROJECT}`;
    const message =
      `Generative Language API has not been used in project ${FAKE_PROJECT} before or it is disabled. Enable it by visiting ${activationUrl} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`;
    return gError(403, "PERMISSION_DENIED", message, [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "SERVICE_DISABLED",
        domain: "googleapis.com",
        metadata: {
          consumer: `projects/${FAKE_PROJECT}`,
          service: SERVICE,
          activationUrl,
          containerInfo: FAKE_PROJECT,
          serviceTitle: "Generative Language API",
        },
      },
      { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [{ description: "Google developers console API activation", url: activationUrl }],
      },
    ]);
  }
  if (reason === "API_KEY_SERVICE_BLOCKED") {
    const methodName = `google.ai.generativelanguage.v1beta.${rpc}`;
    return gError(
      403,
      "PERMISSION_DENIED",
      `Requests to this API ${SERVICE} method ${methodName} are blocked.`,
      [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_SERVICE_BLOCKED",
        domain: "googleapis.com",
        metadata: {
          consumer: `projects/${FAKE_PROJECT}`,
          service: SERVICE,
          methodName,
          apiName: SERVICE,
        },
      }],
    );
  }
  if (reason === "LEAKED") {
    return gError(
      403,
      "PERMISSION_DENIED",
      "Your API key was reported as leaked. Please use another API key.",
    );
  }
  return gError(403, "PERMISSION_DENIED", NO_PERMISSION);
}

function quotaError(
  failure: Extract<Failure, { kind: "quota" }>,
  model: string | undefined,
): GoogleError {
  if (failure.legacy) {
    return gError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).");
  }
  const scopes = {
    minute: {
      metric: "generate_content_free_tier_requests",
      quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      limit: "10",
      retry: 38.52,
    },
    day: {
      metric: "generate_content_free_tier_requests",
      quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
      limit: "250",
      retry: 65205.31,
    },
    tokens_minute: {
      metric: "generate_content_free_tier_input_token_count",
      quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
      limit: "250000",
      retry: 21.7,
    },
  } as const;
  const scope = scopes[failure.scope];
  const retry = failure.retryDelaySeconds ?? scope.retry;
  const named = failure.quotaModel ?? model;
  const metric = `generativelanguage.googleapis.com/${scope.metric}`;
  const modelNote = named ? `, model: ${named}` : "";
  const message =
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n" +
    `* Quota exceeded for metric: ${metric}, limit: ${scope.limit}${modelNote}\n` +
    `Please retry in ${retry}s.`;
  const dimensions: Json = { location: "global" };
  if (named) dimensions.model = named;
  return gError(429, "RESOURCE_EXHAUSTED", message, [
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [{
        description: "Learn more about Gemini API quotas",
        url: "https://ai.google.dev/gemini-api/docs/rate-limits",
      }],
    },
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [{
        quotaMetric: metric,
        quotaId: scope.quotaId,
        quotaDimensions: dimensions,
        quotaValue: scope.limit,
      }],
    },
    // Google rounds the delay down to whole seconds here, unlike in the message.
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${Math.floor(retry)}s` },
  ]);
}

/** Refuses a stored resource that is missing or belongs to another key; null when allowed. */
export function ownerCheck(
  ctx: Ctx,
  entry: Owned | undefined,
  missing: GoogleError,
): GoogleError | null {
  if (!entry) return missing;
  if (entry.owner !== ctx.key) return gError(403, "PERMISSION_DENIED", NO_PERMISSION);
  return null;
}
