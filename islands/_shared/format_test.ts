import { assertEquals } from "../../tests/support/assert.ts";
import { formatCountOf, fromUtcInput, utcInputValue } from "./format.ts";

Deno.test("formatCountOf() says one request, not 1 requests", () => {
  assertEquals(formatCountOf(1, "request"), "1 request");
  assertEquals(formatCountOf(0, "request"), "0 requests");
  assertEquals(formatCountOf(2500, "token"), "2,500 tokens");
  assertEquals(formatCountOf(12_345, "request"), "12.3K requests");
});

Deno.test("expiry inputs are read and written in UTC, as the console shows every time", () => {
  const at = Date.parse("2030-01-02T03:04:00Z");
  assertEquals(utcInputValue(at), "2030-01-02T03:04");
  assertEquals(fromUtcInput("2030-01-02T03:04"), at);
  assertEquals(fromUtcInput("2030-01-02T03:04:05"), at + 5000);
  assertEquals(fromUtcInput(""), null);
  assertEquals(fromUtcInput("2030-13-45T99:99"), null);
  assertEquals(fromUtcInput("tomorrow"), null);
});
