import {
  assert,
  assertEquals,
  assertNotIncludes,
  assertRejects,
} from "../../tests/support/assert.ts";
import {
  createCipher,
  maskSecret,
  randomSecret,
  redact,
  sha256Hex,
  timingSafeEqual,
} from "./secrets.ts";

const FAKE_KEY = "AIzaFAKE-TEST-key-000000000000000000000";

Deno.test("createCipher() round-trips and never stores the clear value", async () => {
  const cipher = await createCipher("a secret of sufficient length");
  const sealed = await cipher.encrypt(FAKE_KEY);
  assertNotIncludes(sealed, FAKE_KEY);
  assert(sealed.startsWith("v1."));
  assertEquals(await cipher.decrypt(sealed), FAKE_KEY);
  assert(sealed !== await cipher.encrypt(FAKE_KEY), "a fresh IV per encryption");
});

Deno.test("createCipher() refuses to decrypt under another secret", async () => {
  const sealed = await (await createCipher("first secret value!")).encrypt(FAKE_KEY);
  const other = await createCipher("second secret value");
  await assertRejects(() => other.decrypt(sealed));
});

Deno.test("redact() masks AIza and AQ. shaped keys and listed secrets", () => {
  const text = `key=${FAKE_KEY} other AQ.FAKE-TEST-abcdefghijklmnopqrstuvwxyz custom-secret-1`;
  const out = redact(text, ["custom-secret-1"]);
  assertNotIncludes(out, FAKE_KEY);
  assertNotIncludes(out, "AQ.FAKE-TEST-abcdefghijklmnopqrstuvwxyz");
  assertNotIncludes(out, "custom-secret-1");
  assert(out.includes("AIza...0000"));
});

Deno.test("maskSecret() keeps four characters on each side", () => {
  assertEquals(maskSecret(FAKE_KEY), "AIza...0000");
  assertEquals(maskSecret("short"), "sh...");
});

Deno.test("randomSecret() has the prefix and at least 128 bits of randomness", () => {
  const a = randomSecret("gp-");
  assert(a.startsWith("gp-"));
  assert(a.length - 3 >= 22, "22 base64 characters carry 132 bits");
  assert(a !== randomSecret("gp-"));
});

Deno.test("sha256Hex() and timingSafeEqual() behave as specified", async () => {
  assertEquals(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert(timingSafeEqual("same", "same"));
  assert(!timingSafeEqual("same", "sane"));
  assert(!timingSafeEqual("same", "same-longer"));
});

Deno.test("redact() masks proxy tokens as the product issues them", () => {
  const token = randomSecret("gp-");
  const out = redact(`Authorization: Bearer ${token}`);
  assertNotIncludes(out, token);
  assert(out.includes("gp-"));
});
