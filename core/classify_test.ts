import { assertEquals } from "../tests/assert.ts";
import { classifyFailure, classifyUpstream } from "./classify.ts";

const now = Date.parse("2026-01-15T20:00:00Z");

function envelope(code: number, status: string, message: string, details: unknown[] = []): string {
  return JSON.stringify({ error: { code, message, status, details } }, null, 2);
}
const quotaFailure = (quotaId: string) => ({
  "@type": "type.googleapis.com/google.rpc.QuotaFailure",
  violations: [{
    quotaMetric: "generativelanguage.googleapis.com/x",
    quotaId,
    quotaDimensions: { model: "gemini-2.5-flash" },
  }],
});
const retry = (delay: string) => ({
  "@type": "type.googleapis.com/google.rpc.RetryInfo",
  retryDelay: delay,
});
const info = (reason: string) => ({
  "@type": "type.googleapis.com/google.rpc.ErrorInfo",
  reason,
  domain: "googleapis.com",
});

Deno.test("classifyUpstream() cools a per-minute 429 for RetryInfo's delay", () => {
  const body = envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded. Please retry in 38.52s.", [
    { "@type": "type.googleapis.com/google.rpc.Help", links: [] },
    quotaFailure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
    retry("30s"),
  ]);
  const verdict = classifyUpstream(429, body, { now });
  assertEquals(verdict.action, "cooldown");
  assertEquals(verdict.errorClass, "quota_minute");
  assertEquals(verdict.until, now + 30_000);
});

Deno.test("classifyUpstream() reads 'retry in Ns' from the message when RetryInfo is absent", () => {
  const body = envelope(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your quota. Please retry in 12.2s.",
    [
      quotaFailure("GenerateContentInputTokensPerModelPerMinute-FreeTier"),
    ],
  );
  assertEquals(classifyUpstream(429, body, { now }).until, now + 12_200);
});

Deno.test("classifyUpstream() falls back to a default cooldown for the old quota message", () => {
  const body = envelope(
    429,
    "RESOURCE_EXHAUSTED",
    "Resource has been exhausted (e.g. check quota).",
  );
  const verdict = classifyUpstream(429, body, { now, defaultCooldownMs: 45_000 });
  assertEquals([verdict.errorClass, verdict.until], ["quota_minute", now + 45_000]);
});

Deno.test("classifyUpstream() rests a per-day 429 until Pacific midnight", () => {
  const body = envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded. Please retry in 65205s.", [
    retry("65205s"),
    quotaFailure("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
  ]);
  const verdict = classifyUpstream(429, body, { now });
  assertEquals(verdict.errorClass, "quota_day");
  assertEquals(new Date(verdict.until!).toISOString(), "2026-01-16T08:00:00.000Z");
});

Deno.test("classifyUpstream() disables invalid, blocked, disabled-service and leaked keys", () => {
  const invalid = envelope(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    [info("API_KEY_INVALID")],
  );
  assertEquals(classifyUpstream(400, invalid, { now }).action, "disable");
  for (const reason of ["SERVICE_DISABLED", "API_KEY_SERVICE_BLOCKED"]) {
    const verdict = classifyUpstream(
      403,
      envelope(403, "PERMISSION_DENIED", "denied", [info(reason)]),
      { now },
    );
    assertEquals([verdict.action, verdict.reason], ["disable", reason]);
  }
  const leaked = envelope(
    403,
    "PERMISSION_DENIED",
    "Your API key was reported as leaked. Please use another API key.",
  );
  assertEquals(classifyUpstream(403, leaked, { now }).reason, "API_KEY_LEAKED");
});

Deno.test("classifyUpstream() passes the caller's own errors back without blame", () => {
  const payload = envelope(
    400,
    "INVALID_ARGUMENT",
    'Invalid JSON payload received. Unknown name "x"',
    [
      { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [] },
    ],
  );
  assertEquals(classifyUpstream(400, payload, { now }).action, "pass");
  const missing = envelope(404, "NOT_FOUND", "models/foo is not found for API version v1beta");
  assertEquals(classifyUpstream(404, missing, { now }).action, "pass");
  const other = envelope(403, "PERMISSION_DENIED", "The caller does not have permission");
  assertEquals(classifyUpstream(403, other, { now }).action, "pass");
  const location = envelope(
    400,
    "FAILED_PRECONDITION",
    "User location is not supported for the API use.",
  );
  assertEquals(classifyUpstream(400, location, { now }).errorClass, "location");
  assertEquals(classifyUpstream(400, "not json", { now }).action, "pass");
});

Deno.test("classifyUpstream() retries 5xx on another key, and reads array-wrapped envelopes", () => {
  assertEquals(
    classifyUpstream(503, envelope(503, "UNAVAILABLE", "The model is overloaded."), { now }).action,
    "retry",
  );
  assertEquals(classifyUpstream(504, "", { now }).errorClass, "timeout");
  const wrapped = JSON.stringify([
    JSON.parse(envelope(400, "INVALID_ARGUMENT", "API key not valid.", [info("API_KEY_INVALID")])),
  ]);
  assertEquals(classifyUpstream(400, wrapped, { now }).action, "disable");
  assertEquals(classifyFailure(true).errorClass, "timeout");
  assertEquals(classifyFailure(false).action, "retry");
});
