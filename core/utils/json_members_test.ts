import { assertEquals } from "../../tests/support/assert.ts";
import { jsonMembers, withFirstMember, withoutMember, withValue } from "./json_members.ts";

Deno.test("jsonMembers() lists top-level members with nested values, escapes and duplicates", () => {
  const text =
    ' { "a" : {"x":[1,{"}":"]"}]}, "b\\u0022q":"s\\"}", "c":12345678901234567890,"a":null }';
  const members = jsonMembers(text)!;
  assertEquals(members.map((m) => m.key), ["a", 'b"q', "c", "a"]);
  assertEquals(
    members.map((m) => text.slice(m.valueStart, m.valueEnd)),
    ['{"x":[1,{"}":"]"}]}', '"s\\"}"', "12345678901234567890", "null"],
  );
  assertEquals(jsonMembers("[1]"), null);
  assertEquals(jsonMembers("{}"), []);
});

Deno.test("withoutMember() removes every occurrence and keeps the rest byte for byte", () => {
  assertEquals(withoutMember('{"a":1, "usage":null, "b":2}', "usage"), '{"a":1, "b":2}');
  assertEquals(withoutMember('{"a":1,"usage":{"t":3}}', "usage"), '{"a":1}');
  assertEquals(withoutMember('{"usage":{"t":3}}', "usage"), "{}");
  assertEquals(
    withoutMember('{"usage":1,"n":1.50,"usage":null,"m":"usage"}', "usage"),
    '{"n":1.50,"m":"usage"}',
  );
  assertEquals(withoutMember('{"a":{"usage":1}}', "usage"), '{"a":{"usage":1}}');
});

Deno.test("withFirstMember() and withValue() edit one member only", () => {
  assertEquals(withFirstMember('{"a":1}', { key: "k", valueJson: "true" }), '{"k":true,"a":1}');
  assertEquals(withFirstMember(" { } ", { key: "k", valueJson: "true" }), ' {"k":true } ');
  const text = '{"a":1,"b":  null ,"c":3}';
  const b = jsonMembers(text)![1]!;
  assertEquals(withValue(text, b, '{"x":true}'), '{"a":1,"b":  {"x":true} ,"c":3}');
});
