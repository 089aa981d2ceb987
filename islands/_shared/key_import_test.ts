import { assertEquals } from "../../tests/support/assert.ts";
import { keyId } from "../../core/secrets/seed.ts";
import { findKeys, ignoredSummary } from "./key_import.ts";

Deno.test("findKeys() finds AIza and AQ. keys in any format, de-duplicated, masked", async () => {
  const a = "AIzaFAKE-TEST-import-parse-0000000001";
  const b = "AQ.FAKE-TEST-newer-format-key-00002";
  const text = `GEMINI_API_KEY=${a}\n["${b}", "${a}"]\nnot a key: AIzaShort`;
  const found = await findKeys(text);
  assertEquals(found.keys.map((k) => [k.masked, k.kind]), [["AIza...0001", "AIza"], [
    "AQ.F...0002",
    "AQ.",
  ]]);
  assertEquals(found.repeats, 1);
  assertEquals(found.keys[0]!.id, await keyId(a), "the browser computes the server's key id");
});

Deno.test("findKeys() says which lines it ignored and why, without keeping them", async () => {
  const a = "AIzaFAKE-TEST-import-parse-0000000001";
  const text = `name,key\nfirst,${a}\n\n# comment\nbroken,AIzaTooShort\nAQ.x`;
  const found = await findKeys(text);
  assertEquals(found.keys.length, 1);
  assertEquals(found.ignored, [
    { line: 1, reason: "no_key" },
    { line: 4, reason: "no_key" },
    { line: 5, reason: "malformed" },
    { line: 6, reason: "malformed" },
  ]);
  assertEquals(
    ignoredSummary(found.ignored),
    "4 lines ignored: 2 without a key (lines 1, 4), 2 with a malformed key (lines 5, 6)",
  );
  assertEquals(ignoredSummary([]), "");
});
