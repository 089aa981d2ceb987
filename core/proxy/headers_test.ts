import { assertEquals } from "../../tests/support/assert.ts";
import {
  clientHeaders,
  listedHeader,
  readHeaders,
  setListedHeader,
  upstreamHeaders,
} from "./headers.ts";

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
  const native = new Headers(upstreamHeaders(readHeaders(incoming), {
    apiKey: "AIzaFAKE",
    bearer: false,
    cfAigToken: undefined,
  }));
  assertEquals(native.get("x-goog-api-key"), "AIzaFAKE");
  assertEquals(native.get("authorization"), null);
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
    assertEquals(native.get(name), null, name);
  }
  assertEquals(native.get("x-goog-api-client"), "google-genai-sdk/1.0");
  assertEquals(native.get("x-server-timeout"), "30");
  assertEquals(native.get("x-goog-upload-protocol"), "resumable");

  const openai = new Headers(
    upstreamHeaders(readHeaders(incoming), { apiKey: "AIzaFAKE", bearer: true, cfAigToken: "cf" }),
  );
  assertEquals(openai.get("authorization"), "Bearer AIzaFAKE");
  assertEquals(openai.get("x-goog-api-key"), null);
  assertEquals(openai.get("cf-aig-authorization"), "Bearer cf");
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
  assertEquals(listedHeader(decoded, "content-encoding"), null);
  assertEquals(listedHeader(decoded, "content-length"), null);
  assertEquals(listedHeader(decoded, "content-type"), "application/json");
  const plain = clientHeaders(new Headers({ "content-length": "42" }));
  assertEquals(listedHeader(plain, "content-length"), "42");
  // Whatever order upstream sent them in.
  const reversed = clientHeaders(
    new Headers([["Content-Length", "42"], ["X-Other", "1"], ["Content-Encoding", "br"]]),
  );
  assertEquals(reversed, [["x-other", "1"]]);
});

Deno.test("readHeaders() reads names lower-case, once each, sorted, repeated values joined", () => {
  const list = readHeaders(
    new Headers([["X-Goog-Api-Key", "a"], ["Accept", "x"], ["x-goog-api-key", "b"]]),
  );
  assertEquals(list, [["accept", "x"], ["x-goog-api-key", "a, b"]]);
  assertEquals(listedHeader(list, "x-goog-api-key"), "a, b");
});

Deno.test("clientHeaders() lists each name once, lower-case, repeated headers joined, cookies and hop-by-hop dropped", () => {
  const upstream = new Headers([
    ["Vary", "Origin"],
    ["vary", "X-Origin"],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
    ["Connection", "close"],
    ["Alt-Svc", 'h3=":443"'],
    ["X-Goog-Upload-URL", "https://generativelanguage.googleapis.com/upload?upload_id=1"],
  ]);
  const list = clientHeaders(upstream);
  assertEquals(list, [
    ["vary", "Origin, X-Origin"],
    ["x-goog-upload-url", "https://generativelanguage.googleapis.com/upload?upload_id=1"],
  ]);
  // A set replaces the one entry; a new name is added once.
  setListedHeader(list, "x-goog-upload-url", "https://proxy.example/upload?upload_id=1");
  setListedHeader(list, "x-new", "1");
  setListedHeader(list, "x-new", "2");
  assertEquals(list.map(([name]) => name), ["vary", "x-goog-upload-url", "x-new"]);
  assertEquals(listedHeader(list, "x-goog-upload-url"), "https://proxy.example/upload?upload_id=1");
  assertEquals(listedHeader(list, "x-new"), "2");
  // The list makes the same Response a Headers would.
  assertEquals([...new Response(null, { headers: list }).headers], [...new Headers(list)]);
});

Deno.test("upstreamHeaders(): hostile client headers never add a credential or reach upstream as sent", () => {
  const incoming = new Headers();
  // Odd casing, credentials in every spelling, the proxy's own markers, and a flood of names.
  incoming.append("X-GOOG-API-KEY", "gp-client");
  incoming.append("x-goog-api-key", "AIzaSmuggled");
  incoming.append("Authorization", "Bearer gp-client");
  incoming.append("CF-Connecting-IP", "6.6.6.6");
  incoming.append("Sec-Fetch-Site", "cross-site");
  incoming.append("X-Gemini-Proxy-Relay", "forged");
  incoming.append("Cookie", "a=1");
  incoming.append("x-stainless-retry-count", "9");
  for (let i = 0; i < 2000; i++) incoming.append(`x-flood-${i}`, "v".repeat(64));
  const list = upstreamHeaders(readHeaders(incoming), {
    apiKey: "AIzaFAKE",
    bearer: false,
    cfAigToken: "cf",
  });
  const credentials = list.filter(([name]) =>
    name === "x-goog-api-key" || name === "authorization" || name === "cf-aig-authorization"
  );
  assertEquals(credentials, [["x-goog-api-key", "AIzaFAKE"], [
    "cf-aig-authorization",
    "Bearer cf",
  ]]);
  for (const [name] of list) {
    assertEquals(name, name.toLowerCase());
    assertEquals(
      ["cf-connecting-ip", "sec-fetch-site", "x-gemini-proxy-relay", "cookie"].includes(name),
      false,
      name,
    );
    assertEquals(name.startsWith("x-stainless-retry"), false, name);
  }
  assertEquals(list.length, 2000 + credentials.length, "every other header passes once");
  assertEquals(new Headers(list).get("x-flood-1999"), "v".repeat(64));
});
