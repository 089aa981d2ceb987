import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { createLogger } from "../logs/logger.ts";
import { createRegionalRelay, HOP_HEADER, RELAY_HEADER, relayHeaders } from "./regional_relay.ts";

const logger = createLogger({ sink: () => {} });
const NOW = Date.parse("2026-03-01T00:00:00Z");

function relayWith(secret: string | undefined, sent: Request[], now = () => NOW) {
  return createRegionalRelay({
    config: {
      fallbackProxyUrls: ["https://fallback.example/base"],
      blockedColos: ["HKG"],
      relaySecret: secret,
      upstreamTimeoutMs: 1000,
    },
    fetch: (input, init) => {
      sent.push(new Request(input, init));
      return Promise.resolve(new Response("{}", { status: 200 }));
    },
    now,
    logger,
  });
}

async function signedRequest(body = '{"contents":[]}'): Promise<Request> {
  const sent: Request[] = [];
  const client = new Request("https://origin.example/v1beta/models/m:generateContent?key=gp-x", {
    method: "POST",
    headers: {
      "x-goog-api-key": "gp-client-token",
      authorization: "Bearer gp-client-token",
      "content-type": "application/json",
      "x-forwarded-for": "203.0.113.9",
      cookie: "a=b",
    },
    body,
  });
  const relayed = await relayWith("shared-secret-0123456789", sent).forward(client, {
    path: "/v1beta/models/m:generateContent",
    search: "",
    body: new TextEncoder().encode(body),
    region: "HKG",
    reason: "blocked_colo",
  });
  assertEquals(relayed?.target, "https://fallback.example");
  return sent[0]!;
}

Deno.test("forward() sends no client credential, address or cookie, and marks the hop", async () => {
  const request = await signedRequest();
  assertEquals(request.url, "https://fallback.example/base/v1beta/models/m:generateContent");
  for (const name of ["x-goog-api-key", "authorization", "x-forwarded-for", "cookie"]) {
    assertEquals(request.headers.get(name), null, name);
  }
  assertEquals(request.headers.get(HOP_HEADER), "1");
  assert(request.headers.get(RELAY_HEADER)?.startsWith("v1;t="));
  assertEquals(request.headers.get("content-type"), "application/json");
});

Deno.test("accept() verifies the signature and the body, and names the origin region", async () => {
  const request = await signedRequest();
  const relay = relayWith("shared-secret-0123456789", []);
  const caller = await relay.accept(request, "/v1beta/models/m:generateContent", "");
  assertEquals(caller?.from, "HKG");
  await caller!.checkBody(new Uint8Array(await request.arrayBuffer()));
  await assertRejects(
    () => caller!.checkBody(new TextEncoder().encode('{"contents":[1]}')),
    "does not match",
  );
});

Deno.test("accept() refuses another secret, path, query or a stale time", async () => {
  const request = await signedRequest();
  const path = "/v1beta/models/m:generateContent";
  await assertRejects(
    () => relayWith("another-secret-0123456789", []).accept(request, path, ""),
    "does not match",
  );
  const relay = relayWith("shared-secret-0123456789", []);
  await assertRejects(() => relay.accept(request, "/v1beta/models/n:generateContent", ""));
  await assertRejects(() => relay.accept(request, path, "?alt=sse"));
  const late = relayWith("shared-secret-0123456789", [], () => NOW + 10 * 60_000);
  await assertRejects(() => late.accept(request, path, ""), "expired");
  assertEquals(await relay.accept(new Request("https://x.example/"), path, ""), null);
});

Deno.test("mayRelay() never relays a relayed request, nor one whose body cannot be replayed", () => {
  const relay = relayWith("shared-secret-0123456789", []);
  assertEquals(relay.mayRelay(new Request("https://x.example/"), true), true);
  assertEquals(relay.mayRelay(new Request("https://x.example/"), false), false);
  const hopped = new Request("https://x.example/", { headers: { [HOP_HEADER]: "1" } });
  assertEquals(relay.mayRelay(hopped, true), false);
  assertEquals(relay.blocked("hkg"), true);
  assertEquals(relay.blocked("SJC"), false);
  assertEquals(relay.blocked(null), false);
});

Deno.test("relayHeaders() keeps content headers and drops Cloudflare's and the browser's", () => {
  const out = relayHeaders(
    new Headers({
      "cf-connecting-ip": "203.0.113.9",
      "sec-fetch-mode": "cors",
      "x-goog-api-client": "genai-js/1",
      [RELAY_HEADER]: "v1;forged",
    }),
  );
  assertEquals([...out.keys()], ["x-goog-api-client"]);
});
