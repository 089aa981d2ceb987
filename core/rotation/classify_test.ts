import { assertEquals } from "../../tests/support/assert.ts";
import { CASES, envelope, type Expected, now } from "./_classify_cases.ts";
import { classifyFailure, classifyUpstream, isKeyVerdict } from "./classify.ts";

for (const c of CASES) {
  Deno.test(`classifyUpstream() on ${c.name}`, () => {
    const verdict = classifyUpstream(c.status, c.body, { now });
    const { errorClass, action, reason, until, model } = verdict;
    const got: Expected = { errorClass, action, reason };
    if (c.expect.until !== undefined) got.until = until;
    if (model !== undefined || c.expect.model !== undefined) got.model = model;
    assertEquals(got, c.expect);
  });
}

Deno.test("classifyUpstream() uses DEFAULT_COOLDOWN_MS when a 429 gives no delay", () => {
  const body = envelope(
    [429, "RESOURCE_EXHAUSTED"],
    "Resource has been exhausted (e.g. check quota).",
  );
  assertEquals(classifyUpstream(429, body, { now, defaultCooldownMs: 45_000 }).until, now + 45_000);
});

Deno.test("isKeyVerdict() holds for disable and cooldown only", () => {
  const verdicts = CASES.map((c) => classifyUpstream(c.status, c.body, { now }));
  for (const v of verdicts) {
    assertEquals(isKeyVerdict(v), v.action === "disable" || v.action === "cooldown");
  }
  assertEquals(isKeyVerdict(classifyFailure(true)), false);
  assertEquals(classifyFailure(true).errorClass, "timeout");
  assertEquals(classifyFailure(false).action, "retry");
});
