import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { HttpError } from "../errors.ts";
import { checkPath, clipped, MAX_PATH_CHARS, MAX_QUERY_CHARS, readQuery } from "./request_url.ts";

function status(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
  return 0;
}

Deno.test("readQuery() decodes names and values as URLSearchParams does, keeping raw pairs", () => {
  const pairs = readQuery("?%6Bey=a%20b&x=1+2&&flag&$alt=sse");
  assertEquals(pairs.map((p) => [p.name, p.value]), [
    ["key", "a b"],
    ["x", "1 2"],
    ["flag", ""],
    ["$alt", "sse"],
  ]);
  assertEquals(pairs.map((p) => p.raw), ["%6Bey=a%20b", "x=1+2", "flag", "$alt=sse"]);
  const same = new URLSearchParams("%6Bey=a%20b&x=1+2&&flag&$alt=sse");
  assertEquals(pairs.map((p) => p.name), [...same.keys()]);
  assertEquals(readQuery(""), []);
  assertEquals(readQuery("?"), []);
});

Deno.test("readQuery() refuses malformed escapes and over-long query strings", () => {
  assertEquals(status(() => readQuery("?alt=%ZZ")), 400);
  assertEquals(status(() => readQuery("?k%ey=x")), 400);
  assertEquals(status(() => readQuery("?x=%FF")), 400);
  assertEquals(status(() => readQuery("?x=%")), 400);
  assertEquals(status(() => readQuery(`?x=${"a".repeat(MAX_QUERY_CHARS)}`)), 414);
  const error = assertThrows(() => readQuery("?key=gp-secret%ZZ"));
  assertEquals(error.message.includes("gp-secret"), false, "a query is never quoted back");
});

Deno.test("checkPath() refuses malformed escapes and over-long paths", () => {
  assertEquals(status(() => checkPath("/v1beta/models/gemini%ZZ:generateContent")), 400);
  assertEquals(status(() => checkPath("/v1beta/files/%E0%A4%A")), 400);
  assertEquals(status(() => checkPath(`/v1beta/files/${"a".repeat(MAX_PATH_CHARS)}`)), 414);
  assertEquals(status(() => checkPath("/v1beta/models/gemini-2.5-flash%3AgenerateContent")), 0);
});

Deno.test("clipped() quotes a bounded, printable form of a hostile value", () => {
  assertEquals(clipped("gemini"), '"gemini"');
  assertEquals(clipped('a"b\\c'), '"a\\"b\\\\c"');
  assertEquals(clipped("x\u0000\n\u202e"), '"x\\u0000\\u000a\\u202e"');
  assertEquals(clipped("a".repeat(1000)), `"${"a".repeat(40)}..."`);
});
