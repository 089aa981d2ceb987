/**
 * Key verdicts end to end on the Deno host: what a key's health shows, what validation does, and
 * where quota cooldowns are filed. Real sockets, the fake upstream, an injected clock.
 */
import { assert, assertEquals } from "./support/assert.ts";
import { countByKey, fakeKeys, type Harness, startHarness } from "./support/harness.ts";

const ADMIN = "admin-password-for-tests";
const auth = { authorization: `Bearer ${ADMIN}` };
const FLASH = "gemini-2.5-flash";
const PRO = "gemini-2.5-pro";

async function withHarness(
  options: Parameters<typeof startHarness>[0],
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = await startHarness({ ...options, env: { ADMIN_PASSWORD: ADMIN, ...options?.env } });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

function idOf(h: Harness, value: string): string {
  return h.proxy.gateway.registry.keys.find((k) => k.value === value)!.id;
}

interface KeyView {
  id: string;
  enabled: boolean;
  disabledReason?: string;
  lastError?: { status: number; errorClass: string; reason: string };
}

async function adminKeys(h: Harness): Promise<KeyView[]> {
  await h.proxy.gateway.settle();
  await h.proxy.gateway.poolSync.settled();
  const response = await fetch(`${h.proxy.url}/admin/api/keys`, { headers: auth });
  return (await response.json()).keys;
}

async function validate(h: Harness, value: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${h.proxy.url}/admin/api/keys/${idOf(h, value)}/validate`, {
    method: "POST",
    headers: auth,
  });
  assertEquals(response.status, 200);
  return await response.json();
}

Deno.test("a client's 400 or 404 never shows as a key's last error; Google's verdict on a key does", () =>
  withHarness({}, async (h) => {
    const [k1] = fakeKeys(3);
    h.fake.failAll({ kind: "bad_request" }, { times: 1 });
    const bad = await h.generate();
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
    const missing = await h.generate("no-such-model");
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    assertEquals((await adminKeys(h)).filter((k) => k.lastError), [], "no key blamed");

    h.fake.failFor(k1!, { kind: "invalid_key" });
    for (let i = 0; i < 3; i++) await (await h.generate()).body?.cancel();
    const blamed = (await adminKeys(h)).filter((k) => k.lastError);
    assertEquals(
      blamed.map((k) => [k.id, k.lastError?.status, k.lastError?.errorClass, k.lastError?.reason]),
      [[idOf(h, k1!), 400, "key_invalid", "API_KEY_INVALID"]],
    );
  }));

Deno.test("validate disables a key Google rejects, with the reason, and re-enables it once accepted", () =>
  withHarness({}, async (h) => {
    const [k1, k2] = fakeKeys(3);
    h.fake.failFor(k1!, { kind: "invalid_key" });
    const rejected = await validate(h, k1!);
    assertEquals(
      [rejected.valid, rejected.verdict, rejected.reason, rejected.disabled, rejected.status],
      [false, "invalid", "API_KEY_INVALID", true, 400],
    );
    const record = h.proxy.gateway.registry.keyById(idOf(h, k1!))!.record;
    assertEquals([record.enabled, record.disabledReason], [false, "API_KEY_INVALID"]);
    const stored = (await adminKeys(h)).find((k) => k.id === idOf(h, k1!))!;
    assertEquals([stored.enabled, stored.disabledReason], [false, "API_KEY_INVALID"]);

    h.fake.reset();
    h.fake.failFor(k2!, { kind: "status", code: 503 });
    const unsure = await validate(h, k2!);
    assertEquals(
      [unsure.valid, unsure.verdict, unsure.reason, unsure.disabled],
      [false, "unknown", "UNAVAILABLE", false],
    );
    assert(h.proxy.gateway.registry.keyById(idOf(h, k2!))!.record.enabled, "a 503 is no verdict");

    const accepted = await validate(h, k1!);
    assertEquals([accepted.valid, accepted.verdict, accepted.reenabled], [true, "valid", true]);
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
  }));

Deno.test("a quota cooldown is filed under the model asked for and the model Google names", () =>
  withHarness({ keys: fakeKeys(2) }, async (h) => {
    const [k1] = fakeKeys(2);
    h.fake.failFor(
      k1!,
      { kind: "quota", scope: "minute", retryDelaySeconds: 30, quotaModel: "gemini-2.5-flash-001" },
      { times: 1 },
    );
    for (let i = 0; i < 5; i++) {
      const response = await h.generate(FLASH);
      assertEquals(response.status, 200, await response.text());
    }
    assertEquals(countByKey(h.fake).get(k1!), 1, "the resting key was not picked again");
    const models = h.proxy.gateway.pool.cooldowns().map((c) => c.model).sort();
    assertEquals(models, ["gemini-2.5-flash", "gemini-2.5-flash-001"]);
    h.clock.now += 30_000;
    for (let i = 0; i < 2; i++) await (await h.generate(FLASH)).body?.cancel();
    assertEquals(countByKey(h.fake).get(k1!), 2, "back once the cooldown ended");
  }));

Deno.test("a request that fails with 5xx on every key rests no key, however often it is sent", () =>
  withHarness({}, async (h) => {
    h.fake.failAll({ kind: "status", code: 500 }, { model: PRO });
    for (let i = 0; i < 8; i++) {
      const failing = await h.generate(PRO);
      assertEquals(failing.status, 500);
      await failing.body?.cancel();
      const ok = await h.generate(FLASH);
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
    }
    assertEquals(h.proxy.gateway.pool.cooldowns(), []);
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);
    assertEquals((await adminKeys(h)).filter((k) => k.lastError), []);
  }));
