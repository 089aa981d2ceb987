import { assertEquals } from "../../tests/support/assert.ts";
import { clientHeaders, upstreamHeaders } from "./headers.ts";

Deno.test("upstreamHeaders() swaps credentials and drops hop-by-hop and client-only headers", () => {
  const incoming = new Headers({
    "x-goog-api-key": "gp-client",
    authorization: "Bearer gp-client",
    connection: "keep-alive, x-secret",
    "keep-alive": "timeout=5",
    "transfer-encoding": "chunked",
    cookie: "session=1",
    "x-forwarded-for": "10.0.0.1",
    "x-goog-user-project": "someone-elses-project",
    "x-goog-api-client": "google-genai-sdk/1.0",
    "x-server-timeout": "30",
    "x-goog-upload-protocol": "resumable",
    "content-type": "application/json",
  });
  const native = upstreamHeaders(incoming, {
    apiKey: "AIzaFAKE",
    bearer: false,
    cfAigToken: undefined,
  });
  assertEquals(new Headers(native).get("x-goog-api-key"), "AIzaFAKE");
  assertEquals(new Headers(native).get("authorization"), null);
  for (
    const name of [
      "connection",
      "keep-alive",
      "transfer-encoding",
      "cookie",
      "x-forwarded-for",
      "x-goog-user-project",
    ]
  ) {
    assertEquals(new Headers(native).get(name), null, name);
  }
  assertEquals(new Headers(native).get("x-goog-api-client"), "google-genai-sdk/1.0");
  assertEquals(new Headers(native).get("x-server-timeout"), "30");
  assertEquals(new Headers(native).get("x-goog-upload-protocol"), "resumable");

  const openai = upstreamHeaders(incoming, { apiKey: "AIzaFAKE", bearer: true, cfAigToken: "cf" });
  assertEquals(new Headers(openai).get("authorization"), "Bearer AIzaFAKE");
  assertEquals(new Headers(openai).get("x-goog-api-key"), null);
  assertEquals(new Headers(openai).get("cf-aig-authorization"), "Bearer cf");
});

Deno.test("clientHeaders() drops encoding headers of a body fetch already decoded", () => {
  const decoded = clientHeaders(
    new Headers({
      "content-encoding": "gzip",
      "content-length": "42",
      "content-type": "application/json",
      "x-goog-upload-url": "https://u",
    }),
  );
  assertEquals(decoded.get("content-encoding"), null);
  assertEquals(decoded.get("content-length"), null);
  assertEquals(decoded.get("content-type"), "application/json");
  const plain = clientHeaders(new Headers({ "content-length": "42" }));
  assertEquals(plain.get("content-length"), "42");
});
