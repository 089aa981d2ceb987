/**
 * The fake's errors: missing and invalid credentials, and every failure it simulates, shaped like
 * Google's.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Failure, type FakeUpstream } from "./mod.ts";
import {
  call,
  detail,
  type Envelope,
  GEN_BODY,
  KEY_1,
  KEY_2,
  MODEL,
  withFake,
} from "./_testing.ts";

Deno.test("fake upstream refuses missing keys with 403 and non-OAuth bearers with 401", () =>
  withFake(async (fake) => {
    const missing = await call(fake, "/v1beta/models", { key: null });
    assertEquals(missing.res.status, 403);
    const envelope = missing.json() as unknown as Envelope;
    assertEquals(envelope.error.status, "PERMISSION_DENIED");
    assert(envelope.error.message.startsWith("Method doesn't allow unregistered callers"));
    assert(missing.text.startsWith('{\n  "error": {\n    "code": 403,'));

    const bearer = await call(fake, "/v1beta/models", {
      headers: { authorization: `Bearer ${KEY_1}` },
    });
    assertEquals(bearer.res.status, 401);
    assertEquals((bearer.json() as unknown as Envelope).error.status, "UNAUTHENTICATED");

    const viaQuery = await call(fake, `/v1beta/models?key=${KEY_2}`, { key: null });
    assertEquals(viaQuery.res.status, 200);
    assertEquals(fake.requests.map((r) => r.key), [null, KEY_1, KEY_2]);
    assertEquals(
      fake.requests.map((r) => r.responseStatus),
      [403, 401, 200],
    );
    assertEquals(missing.res.headers.get("x-fake-request-index"), "0");
    assertEquals(viaQuery.res.headers.get("x-fake-request-index"), "2");
  }));

Deno.test("fake upstream treats keys outside validKeys as invalid", () =>
  withFake(async (fake) => {
    fake.validKeys.add(KEY_1);
    assertEquals((await call(fake, "/v1beta/models")).res.status, 200);
    const bad = await call(fake, "/v1beta/models", { key: KEY_2 });
    assertEquals(bad.res.status, 400);
    assertEquals(detail(bad.json() as unknown as Envelope, "ErrorInfo")?.reason, "API_KEY_INVALID");
  }));

async function failOnce(fake: FakeUpstream, failure: Failure, path?: string) {
  fake.failFor(KEY_1, failure, { times: 1 });
  const result = await call(fake, path ?? `/v1beta/models/${MODEL}:generateContent`, {
    body: GEN_BODY,
  });
  return { status: result.res.status, envelope: result.json() as unknown as Envelope, res: result };
}

Deno.test("fake upstream fails with Google's invalid key, permission and location envelopes", () =>
  withFake(async (fake) => {
    const invalid = await failOnce(fake, { kind: "invalid_key" });
    assertEquals(invalid.status, 400);
    assertEquals(invalid.envelope.error.status, "INVALID_ARGUMENT");
    assertEquals(invalid.envelope.error.message, "API key not valid. Please pass a valid API key.");
    assertEquals(detail(invalid.envelope, "ErrorInfo")?.reason, "API_KEY_INVALID");

    const denied = await failOnce(fake, { kind: "permission_denied" });
    assertEquals([denied.status, denied.envelope.error.status], [403, "PERMISSION_DENIED"]);
    const disabled = await failOnce(fake, {
      kind: "permission_denied",
      reason: "SERVICE_DISABLED",
    });
    assertEquals(detail(disabled.envelope, "ErrorInfo")?.reason, "SERVICE_DISABLED");
    const blocked = await failOnce(fake, {
      kind: "permission_denied",
      reason: "API_KEY_SERVICE_BLOCKED",
    });
    assertEquals(detail(blocked.envelope, "ErrorInfo")?.reason, "API_KEY_SERVICE_BLOCKED");
    assert(blocked.envelope.error.message.includes("GenerativeService.GenerateContent"));
    const leaked = await failOnce(fake, { kind: "permission_denied", reason: "LEAKED" });
    assertEquals(
      leaked.envelope.error.message,
      "Your API key was reported as leaked. Please use another API key.",
    );

    const location = await failOnce(fake, { kind: "location" });
    assertEquals([location.status, location.envelope.error.status], [400, "FAILED_PRECONDITION"]);
    assertEquals(
      location.envelope.error.message,
      "User location is not supported for the API use.",
    );

    const bad = await failOnce(fake, { kind: "bad_request" });
    assertEquals([bad.status, bad.envelope.error.status], [400, "INVALID_ARGUMENT"]);
    const violations = detail(bad.envelope, "BadRequest")?.fieldViolations as unknown[];
    assertEquals(violations.length, 1);
    assertEquals(detail(bad.envelope, "ErrorInfo"), undefined);

    // times: 1 each, so the next request succeeds.
    assertEquals(
      (await call(fake, `/v1beta/models/${MODEL}:generateContent`, { body: GEN_BODY }))
        .res.status,
      200,
    );
  }));

Deno.test("fake upstream fails with quota envelopes carrying the model and retry delay", () =>
  withFake(async (fake) => {
    const scopes = {
      minute: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      day: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
      tokens_minute: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
    } as const;
    for (const [scope, quotaId] of Object.entries(scopes)) {
      const { status, envelope } = await failOnce(fake, {
        kind: "quota",
        scope: scope as keyof typeof scopes,
        retryDelaySeconds: 38.52,
      });
      assertEquals([status, envelope.error.status], [429, "RESOURCE_EXHAUSTED"]);
      assert(envelope.error.message.endsWith("Please retry in 38.52s."));
      assert(envelope.error.message.includes(`model: ${MODEL}`));
      assertEquals(
        envelope.error.details?.map((d) => d["@type"].split(".").at(-1)),
        ["Help", "QuotaFailure", "RetryInfo"],
      );
      const violation =
        (detail(envelope, "QuotaFailure")?.violations as Record<string, unknown>[])[0]!;
      assertEquals(violation.quotaId, quotaId);
      assertEquals((violation.quotaDimensions as Record<string, string>).model, MODEL);
      assertEquals(detail(envelope, "RetryInfo")?.retryDelay, "38s");
    }
    const legacy = await failOnce(fake, { kind: "quota", scope: "minute", legacy: true });
    assertEquals(legacy.envelope, {
      error: {
        code: 429,
        message: "Resource has been exhausted (e.g. check quota).",
        status: "RESOURCE_EXHAUSTED",
      },
    });
  }));

Deno.test("fake upstream names the model Google resolved in a quota error when told to", () =>
  withFake(async (fake) => {
    const { envelope } = await failOnce(fake, {
      kind: "quota",
      scope: "minute",
      quotaModel: "gemini-2.5-flash-001",
    });
    const violation =
      (detail(envelope, "QuotaFailure")?.violations as Record<string, unknown>[])[0]!;
    assertEquals(
      (violation.quotaDimensions as Record<string, string>).model,
      "gemini-2.5-flash-001",
    );
    assert(envelope.error.message.includes("model: gemini-2.5-flash-001"));
  }));

Deno.test("fake upstream fails with Google-shaped 500, 503 and 504", () =>
  withFake(async (fake) => {
    const expected = { 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED" } as const;
    for (const code of [500, 503, 504] as const) {
      const { status, envelope } = await failOnce(fake, { kind: "status", code });
      assertEquals([status, envelope.error.code, envelope.error.status], [
        code,
        code,
        expected[code],
      ]);
    }
    const overloaded = await failOnce(fake, { kind: "status", code: 503 });
    assertEquals(
      overloaded.envelope.error.message,
      "The model is overloaded. Please try again later.",
    );
  }));
