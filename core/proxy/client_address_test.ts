import { assertEquals } from "../../tests/support/assert.ts";
import { cleanAddress, clientAddressOf, maskAddress } from "./client_address.ts";

const xff = (value: string) => new Headers({ "x-forwarded-for": value });

Deno.test("clientAddressOf() ignores X-Forwarded-For unless TRUST_PROXY is set", () => {
  assertEquals(clientAddressOf(xff("6.6.6.6"), "10.0.0.2", 0), "10.0.0.2");
  assertEquals(clientAddressOf(new Headers(), null, 0), null);
});

Deno.test("clientAddressOf() takes the N-th entry from the right with N trusted hops", () => {
  const chain = xff("6.6.6.6, 198.51.100.7 , 203.0.113.9");
  assertEquals(clientAddressOf(chain, "10.0.0.2", 1), "203.0.113.9");
  assertEquals(clientAddressOf(chain, "10.0.0.2", 2), "198.51.100.7");
  // Fewer entries than hops: the left-most one.
  assertEquals(clientAddressOf(chain, "10.0.0.2", 5), "6.6.6.6");
  // No header: the socket's peer.
  assertEquals(clientAddressOf(new Headers(), "10.0.0.2", 1), "10.0.0.2");
});

Deno.test("clientAddressOf() keeps only IP addresses, never hostile text", () => {
  assertEquals(clientAddressOf(xff("<script>alert(1)</script>"), "10.0.0.2", 1), null);
  assertEquals(clientAddressOf(xff("999.1.1.1"), null, 1), null);
  assertEquals(clientAddressOf(xff("1".repeat(5000)), null, 1), null);
  assertEquals(cleanAddress("[2001:db8::1]:443"), "2001:db8::1");
  assertEquals(cleanAddress("::ffff:192.0.2.1"), "192.0.2.1");
  assertEquals(cleanAddress("192.0.2.1:8080"), "192.0.2.1");
  assertEquals(cleanAddress("fe80::1%eth0"), "fe80::1");
  assertEquals(cleanAddress("1:2:3"), null);
});

Deno.test("maskAddress() keeps the /24 of IPv4 and the /48 of IPv6", () => {
  assertEquals(maskAddress("203.0.113.9"), "203.0.113.0/24");
  assertEquals(maskAddress("2001:db8:1:2::5"), "2001:db8:1::/48");
  assertEquals(maskAddress("::1"), "0:0:0::/48");
  assertEquals(maskAddress(null), null);
});

Deno.test("cleanAddress() answers each value for itself, the same value twice in a row included", () => {
  const values: [string, string | null][] = [
    ["203.0.113.9:443", "203.0.113.9"],
    ["203.0.113.9:443", "203.0.113.9"],
    ["not an address", null],
    ["not an address", null],
    ["[2001:DB8::1]:443", "2001:db8::1"],
    ["203.0.113.9:443", "203.0.113.9"],
    ["999.1.1.1", null],
    ["203.0.113.10", "203.0.113.10"],
    ["999.1.1.1", null],
  ];
  for (const [value, expected] of values) assertEquals(cleanAddress(value), expected, value);
});
