import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { clientCredential, upstreamSearch } from "./credentials.ts";

Deno.test("clientCredential() finds the token in the header, the query or a bearer", () => {
  const q = new URLSearchParams();
  assertEquals(clientCredential(new Headers({ "x-goog-api-key": "gp-a" }), q), "gp-a");
  assertEquals(clientCredential(new Headers(), new URLSearchParams("key=gp-b")), "gp-b");
  assertEquals(clientCredential(new Headers({ authorization: "Bearer gp-c" }), q), "gp-c");
  assertEquals(clientCredential(new Headers(), q), null);
});

Deno.test("clientCredential() accepts the same token in every place but not different ones", () => {
  const same = new Headers({ "x-goog-api-key": "gp-a", authorization: "Bearer gp-a" });
  assertEquals(clientCredential(same, new URLSearchParams("key=gp-a")), "gp-a");
  assertThrows(
    () =>
      clientCredential(new Headers({ "x-goog-api-key": "gp-a" }), new URLSearchParams("key=gp-b")),
    "different credentials",
  );
});

Deno.test("upstreamSearch() removes every key parameter and keeps the rest in order", () => {
  assertEquals(upstreamSearch("?key=gp-a&alt=sse"), "?alt=sse");
  assertEquals(upstreamSearch("?alt=sse&key=gp-a&pageSize=2&key=x"), "?alt=sse&pageSize=2");
  assertEquals(upstreamSearch("?key=gp-a"), "");
  assertEquals(upstreamSearch("?monkey=1"), "?monkey=1");
  assertEquals(upstreamSearch(""), "");
});
