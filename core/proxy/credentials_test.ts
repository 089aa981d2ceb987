import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { clientCredential, credentialParam, upstreamSearch } from "./credentials.ts";
import { readHeaders } from "./headers.ts";
import { readQuery } from "./request_url.ts";

const q = readQuery;

Deno.test("clientCredential() finds the token in the header, the query or a bearer", () => {
  const none = q("");
  assertEquals(
    clientCredential(readHeaders(new Headers({ "x-goog-api-key": "gp-a" })), none),
    "gp-a",
  );
  assertEquals(clientCredential(readHeaders(new Headers()), q("key=gp-b")), "gp-b");
  assertEquals(
    clientCredential(readHeaders(new Headers({ authorization: "Bearer gp-c" })), none),
    "gp-c",
  );
  assertEquals(clientCredential(readHeaders(new Headers()), none), null);
});

Deno.test("clientCredential() accepts the same token in every place but not different ones", () => {
  const same = new Headers({ "x-goog-api-key": "gp-a", authorization: "Bearer gp-a" });
  assertEquals(clientCredential(readHeaders(same), q("key=gp-a")), "gp-a");
  assertThrows(
    () => clientCredential(readHeaders(new Headers({ "x-goog-api-key": "gp-a" })), q("key=gp-b")),
    "different credentials",
  );
  assertThrows(
    () => clientCredential(readHeaders(new Headers()), q("key=gp-a&%6Bey=gp-b")),
    "different",
  );
});

Deno.test("clientCredential() reads the token from every encoding of the key parameter", () => {
  for (
    const query of [
      "%6Bey=gp-a",
      "k%65y=gp-a",
      "ke%79=gp-a",
      "%6b%65%79=gp-a",
      "$key=gp-a",
      "%24key=gp-a",
      "key=%67p-a",
      "key=+gp-a+",
      "key=gp-a&key=gp-a",
      "key=&%6Bey=gp-a",
    ]
  ) {
    assertEquals(clientCredential(readHeaders(new Headers()), q(query)), "gp-a", query);
  }
});

Deno.test("clientCredential() refuses names that only resemble key, and OAuth parameters", () => {
  for (
    const query of [
      "KEY=gp-a",
      "Key=gp-a",
      "%4Bey=gp-a",
      "key%00=gp-a",
      "key+=gp-a",
      "+key=gp-a",
      "k%C2%ADey=gp-a",
      "$KEY=gp-a",
      "access_token=auth_tokens/x",
      "oauth_token=ya29.x",
      "ACCESS_TOKEN=x",
    ]
  ) {
    const error = assertThrows(
      () => clientCredential(readHeaders(new Headers()), q(query)),
      "credential",
    );
    assertEquals((error as { code?: number }).code, 400, query);
  }
  assertEquals(credentialParam("monkey"), null);
  assertEquals(credentialParam("keys"), null);
  assertEquals(credentialParam("pageToken"), null);
});

Deno.test("upstreamSearch() removes every credential parameter and keeps the rest as sent", () => {
  assertEquals(upstreamSearch(q("?key=gp-a&alt=sse")), "?alt=sse");
  assertEquals(upstreamSearch(q("?alt=sse&key=gp-a&pageSize=2&key=x")), "?alt=sse&pageSize=2");
  assertEquals(upstreamSearch(q("?%6Bey=gp-a&k%65y=gp-a&%24key=gp-a&alt=sse")), "?alt=sse");
  assertEquals(upstreamSearch(q("?key=&key&alt=sse")), "?alt=sse");
  assertEquals(upstreamSearch(q("?key=gp-a")), "");
  assertEquals(upstreamSearch(q("?monkey=1&pageToken=a%2Bb%3D")), "?monkey=1&pageToken=a%2Bb%3D");
  assertEquals(upstreamSearch(q("")), "");
});
