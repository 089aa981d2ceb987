import { assertEquals } from "../../tests/support/assert.ts";
import { clientResolver, remoteAddrPeer } from "../proxy/client_address.ts";
import { addressScope, throttleAddress } from "./client_address.ts";

const spoofed = {
  "x-forwarded-for": "198.51.100.1",
  "cf-connecting-ip": "198.51.100.2",
  "x-real-ip": "198.51.100.3",
  forwarded: "for=198.51.100.4",
};
const env = { remoteAddr: { transport: "tcp", hostname: "203.0.113.7", port: 5000 } };

Deno.test("throttleAddress() of an untrusted request is the connection's, never a forwarding header", () => {
  const clientOf = clientResolver(remoteAddrPeer, () => 0);
  const request = new Request("http://proxy.test/", { headers: spoofed });
  assertEquals(throttleAddress(clientOf(request, env)), "203.0.113.7");
  assertEquals(throttleAddress(clientOf(request, undefined)), "unknown");
  assertEquals(throttleAddress(clientOf(request, { remoteAddr: { hostname: 42 } })), "unknown");
});

Deno.test("throttleAddress() behind TRUST_PROXY=1 is the right-most X-Forwarded-For entry", () => {
  const clientOf = clientResolver(remoteAddrPeer, () => 1);
  const forged = new Request("http://proxy.test/", {
    headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.9" },
  });
  assertEquals(throttleAddress(clientOf(forged, env)), "198.51.100.9");
  const none = new Request("http://proxy.test/");
  assertEquals(throttleAddress(clientOf(none, env)), "203.0.113.7", "no header: the peer");
});

Deno.test("throttleAddress() on Workers is cf-connecting-ip, which Cloudflare sets", () => {
  const clientOf = clientResolver((r) => r.headers.get("cf-connecting-ip"), () => 0);
  const request = new Request("http://proxy.test/", { headers: spoofed });
  assertEquals(throttleAddress(clientOf(request, {})), "198.51.100.2");
});

Deno.test("addressScope() keeps IPv4, unmaps IPv4 in IPv6 and cuts IPv6 to its /64", () => {
  const cases: [string, string][] = [
    ["203.0.113.7", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["::FFFF:203.0.113.7", "203.0.113.7"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:0DB8:0001:0002:0003:0004:0005:0006", "2001:db8:1:2::/64"],
    ["[2001:db8:1:2::9]", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["unknown", "unknown"],
    ["x".repeat(500), "x".repeat(64)],
    ["1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"],
    ["", "unknown"],
  ];
  for (const [address, scope] of cases) assertEquals(addressScope(address), scope, address);
});
