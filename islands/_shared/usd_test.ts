import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import {
  formatCost,
  formatRecordCost,
  formatUsd,
  formatUsdAxis,
  parseUsd,
  usdInput,
} from "./usd.ts";

Deno.test("formatUsd() shows cents from a cent up and every µUSD below, never $0.00 for a cost", () => {
  assertEquals(formatUsd(25_000_000), "$25.00");
  assertEquals(formatUsd(1_234_567_890), "$1,234.57");
  assertEquals(formatUsd(500_132), "$0.50");
  assertEquals(formatUsd(10_000), "$0.01");
  assertEquals(formatUsd(9_999), "$0.009999");
  assertEquals(formatUsd(1550), "$0.00155");
  assertEquals(formatUsd(1), "$0.000001");
  assertEquals(formatUsd(0), "$0.00");
  assertEquals(formatUsd(-1550), "-$0.00155");
});

Deno.test("formatCost() says what is unknown instead of counting it as $0", () => {
  assertEquals(formatCost(1_230_000), "$1.23");
  assertEquals(formatCost(1_230_000, 4), "$1.23 + 4 unpriced");
  assertEquals(formatCost(0, 1), "unknown (1 unpriced)");
  assertEquals(formatCost(0, 12_345), "unknown (12,345 unpriced)");
  assertEquals(formatCost(0, 0), "$0.00");
});

Deno.test("formatRecordCost() of one request: amount, unknown, or a dash for older records", () => {
  assertEquals(formatRecordCost({ costMicros: 17 }), "$0.000017");
  assertEquals(formatRecordCost({ costMicros: 0 }), "$0.00");
  assertEquals(formatRecordCost({ costUnknown: true }), "unknown");
  assertEquals(formatRecordCost({}), "–");
});

Deno.test("formatUsdAxis() labels µUSD ticks in short dollars", () => {
  assertEquals(formatUsdAxis(0), "$0");
  assertEquals(formatUsdAxis(500), "$0.0005");
  assertEquals(formatUsdAxis(1500), "$0.0015");
  assertEquals(formatUsdAxis(250_000), "$0.25");
  assertEquals(formatUsdAxis(2_500_000), "$2.5");
  assertEquals(formatUsdAxis(1_250_000_000), "$1.3K");
  assertEquals(formatUsdAxis(3e12), "$3M");
});

Deno.test("parseUsd() reads dollars exactly and refuses what is not a positive amount", () => {
  assertEquals(parseUsd(""), null);
  assertEquals(parseUsd("  "), null);
  assertEquals(parseUsd("25"), 25_000_000);
  assertEquals(parseUsd("$25.50"), 25_500_000);
  assertEquals(parseUsd("0.50"), 500_000);
  assertEquals(parseUsd("0.000001"), 1);
  assertEquals(parseUsd("1,000"), 1_000_000_000);
  // 0.1 + 0.2 is no float here: 0.3 is exactly 300000 µUSD.
  assertEquals(parseUsd("0.3"), 300_000);
  for (const bad of ["abc", "-5", "1e3", "0.0000001", "1,00", "1.", ".5", "25 USD"]) {
    assertThrows(() => parseUsd(bad), "is not an amount in USD");
  }
  assertThrows(() => parseUsd("0"), "is not a positive amount");
  assertThrows(() => parseUsd("0.000000"), "is not a positive amount");
  assertThrows(() => parseUsd("1000000001"), "more than $1,000,000,000");
  assertThrows(() => parseUsd("<script>" + "9".repeat(500)), '"<script>9999');
});

Deno.test("usdInput() writes µUSD back as the field's text, and parseUsd() reads it again", () => {
  for (const micros of [25_000_000, 500_000, 1, 1_000_000_000, 123_456_789]) {
    assertEquals(parseUsd(usdInput(micros)), micros);
  }
  assertEquals(usdInput(25_000_000), "25");
  assertEquals(usdInput(500_000), "0.5");
  assertEquals(usdInput(undefined), "");
});
