import { assert, assertEquals, assertNotIncludes } from "./support/assert.ts";
import { fakeKeys, startHarness } from "./support/harness.ts";

const ADMIN = "admin-password-for-tests";
const auth = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

Deno.test("admin keys API lists masked keys, adds, disables, validates and deletes", async () => {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    const api = `${h.proxy.url}/admin/api/keys`;
    const list = await fetch(api, { headers: auth });
    const text = await list.text();
    for (const key of fakeKeys(3)) assertNotIncludes(text, key);
    assertEquals(JSON.parse(text).keys.length, 3);
    assertNotIncludes(text, "sealed");

    const extra = "AIzaFAKE-TEST-key-added-by-admin-000001";
    const added = await fetch(api, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ keys: `${extra}\n${extra}`, project: "p1" }),
    });
    assertEquals(added.status, 201);
    const { added: [id] } = await added.json();
    const again = await fetch(api, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ keys: [extra] }),
    });
    assertEquals((await again.json()).existing, [id]);

    const patched = await fetch(`${api}/${id}`, {
      method: "PATCH",
      headers: auth,
      body: JSON.stringify({ enabled: false, weight: 2 }),
    });
    const record = await patched.json();
    assertEquals([record.enabled, record.weight, record.project, record.disabledReason], [
      false,
      2,
      "p1",
      "disabled by admin",
    ]);
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 3);

    const validated =
      await (await fetch(`${api}/${id}/validate`, { method: "POST", headers: auth })).json();
    assertEquals([validated.valid, validated.reenabled], [true, true]);
    assertEquals(h.proxy.gateway.registry.enabledKeys.length, 4);

    const bad = await fetch(`${api}/${id}`, {
      method: "PATCH",
      headers: auth,
      body: JSON.stringify({ weight: "heavy" }),
    });
    assertEquals(bad.status, 400);
    assertEquals((await bad.json()).error.status, "INVALID_ARGUMENT");

    const deleted = await fetch(`${api}/${id}`, { method: "DELETE", headers: auth });
    assertEquals(deleted.status, 200);
    await deleted.body?.cancel();
    assertEquals(h.proxy.gateway.registry.keys.length, 3);
  } finally {
    await h.close();
  }
});

Deno.test("admin API refuses a wrong password and stays closed without ADMIN_PASSWORD", async () => {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    const wrong = await fetch(`${h.proxy.url}/admin/api/keys`, {
      headers: { authorization: "Bearer nope" },
    });
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();
  } finally {
    await h.close();
  }
  const closed = await startHarness();
  try {
    const response = await fetch(`${closed.proxy.url}/admin/api/keys`, { headers: auth });
    assertEquals(response.status, 403);
    assert((await response.json()).error.message.includes("ADMIN_PASSWORD"));
  } finally {
    await closed.close();
  }
});

Deno.test("admin bodies over the limit get 413 before they are read, declared or streamed", async () => {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    const huge = JSON.stringify({ keys: "x".repeat(3 * 1024 * 1024) });
    const declared = await fetch(`${h.proxy.url}/admin/api/keys`, {
      method: "POST",
      headers: auth,
      body: huge,
    });
    assertEquals(declared.status, 413);
    assertEquals((await declared.json()).error.status, "INVALID_ARGUMENT");
    // No content-length: the limit counts the bytes as they arrive.
    const bytes = new TextEncoder().encode(huge);
    const streamed = await fetch(`${h.proxy.url}/admin/api/keys`, {
      method: "POST",
      headers: auth,
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 65_536) {
            controller.enqueue(bytes.subarray(at, at + 65_536));
          }
          controller.close();
        },
      }),
    });
    assertEquals(streamed.status, 413);
    await streamed.body?.cancel();
    const form = await fetch(`${h.proxy.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `password=${"p".repeat(3 * 1024 * 1024)}`,
    });
    assertEquals(form.status, 413);
    await form.body?.cancel();
    const list = await fetch(`${h.proxy.url}/admin/api/keys`, { headers: auth });
    assertEquals(list.status, 200, "the admin API keeps serving");
    await list.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("keys added to be validated first wait disabled until Google accepts them", async () => {
  const h = await startHarness({ env: { ADMIN_PASSWORD: ADMIN } });
  try {
    const api = `${h.proxy.url}/admin/api/keys`;
    const good = "AIzaFAKE-TEST-key-validated-first-00001";
    const bad = "AIzaFAKE-TEST-key-validated-first-00002";
    h.fake.failFor(bad, { kind: "invalid_key" });
    const added = await fetch(api, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ keys: [good, bad], enabled: false }),
    });
    assertEquals(added.status, 201);
    const ids: string[] = (await added.json()).added;
    const listed = (await (await fetch(api, { headers: auth })).json()).keys
      .filter((k: { id: string }) => ids.includes(k.id));
    assertEquals(
      listed.map((
        k: { enabled: boolean; disabledReason: string },
      ) => [k.enabled, k.disabledReason]),
      [[false, "awaiting validation"], [false, "awaiting validation"]],
    );
    const verdicts = [];
    for (const id of ids) {
      const r = await fetch(`${api}/${id}/validate`, { method: "POST", headers: auth });
      verdicts.push((await r.json()).verdict);
    }
    assertEquals(verdicts, ["valid", "invalid"]);
    const after = new Map<string, boolean>(
      (await (await fetch(api, { headers: auth })).json()).keys
        .map((k: { id: string; enabled: boolean }) => [k.id, k.enabled]),
    );
    assertEquals(ids.map((id) => after.get(id)), [true, false]);
  } finally {
    await h.close();
  }
});
