import { Hono } from "hono";
import { assertEquals } from "../../tests/assert.ts";
import { addressScope, clientAddress } from "./client_address.ts";

Deno.test("clientAddress() takes the connection's address and never a forwarding header", async () => {
  const app = new Hono().get("/", (c) => c.text(clientAddress(c)));
  const spoofed = {
    "x-forwarded-for": "198.51.100.1",
    "cf-connecting-ip": "198.51.100.2",
    "x-real-ip": "198.51.100.3",
    forwarded: "for=198.51.100.4",
  };
  const request = () => new Request("http://proxy.test/", { headers: spoofed });
  const env = { remoteAddr: { transport: "tcp", hostname: "203.0.113.7", port: 5000 } };
  assertEquals(await (await app.fetch(request(), env)).text(), "203.0.113.7");
  assertEquals(await (await app.fetch(request())).text(), "unknown");
  assertEquals(
    await (await app.fetch(request(), { remoteAddr: { hostname: 42 } })).text(),
    "unknown",
  );
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
