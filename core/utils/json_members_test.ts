import { assertEquals } from "../../tests/support/assert.ts";
import {
  jsonMembers,
  jsonMembersInBytes,
  withFirstMember,
  withoutMember,
  withValue,
} from "./json_members.ts";

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

Deno.test("jsonMembersInBytes() lists the members jsonMembers() lists, in bytes, and refuses what is cut short", () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const texts = [
    '{"a":1,"usage":null}',
    '{ "choices" : [{"delta":{"content":"\\"usage\\":null 团队 🚀 }]"}}] ,\t"usage":null, "o":"c"}',
    '{"n":-2.5e3,"t":true,"s":"a\\\\","o":{"x":[1,{"y":"}"}]}}',
    '{"us\\u0061ge":null}',
    "{}",
  ];
  for (const text of texts) {
    const bytes = encoder.encode(text);
    const members = jsonMembersInBytes(bytes, 0, bytes.length)!;
    const expected = jsonMembers(text)!;
    const slice = (from: number, to: number) => decoder.decode(bytes.subarray(from, to));
    assertEquals(
      members.map((m) => [JSON.parse(slice(m.start, m.keyEnd)), slice(m.valueStart, m.valueEnd)]),
      expected.map((m) => [m.key, text.slice(m.valueStart, m.valueEnd)]),
      text,
    );
    assertEquals(
      members.map((m) => m.escaped),
      expected.map((_, i) => text === texts[3] && i === 0),
    );
  }
  for (const bad of ['{"a":1', '{"a" 1}', '{"a":1 "b":2}', '{"a":"x', "[1]", '{"a":}']) {
    const bytes = encoder.encode(bad);
    assertEquals(jsonMembersInBytes(bytes, 0, bytes.length), null, bad);
  }
});
