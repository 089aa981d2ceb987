import {
  assertEquals,
  assertNotIncludes,
  assertStringIncludes,
  assertThrows,
} from "../../tests/support/assert.ts";
import { DEFAULT_UPSTREAM_URL, parseConfig, splitSecrets } from "./config.ts";

Deno.test("parseConfig() applies documented defaults to an empty environment", () => {
  const config = parseConfig({});
  assertEquals(config.port, 8000);
  assertEquals(config.host, "127.0.0.1");
  assertEquals(config.upstreamUrl, DEFAULT_UPSTREAM_URL);
  assertEquals(config.store, "kv");
  assertEquals(config.kvPath, "./data/gemini-proxy.kv");
  assertEquals(config.geminiKeys, []);
  assertEquals(config.proxyTokens, []);
});

Deno.test("parseConfig() splits keys on commas, spaces and newlines and drops duplicates", () => {
  const config = parseConfig({
    GEMINI_API_KEYS: "AIzaFAKE-TEST-a, AIzaFAKE-TEST-b\nAIzaFAKE-TEST-a  AQ.FAKE-TEST-c,,",
    PROXY_TOKENS: "gp-one\r\ngp-two gp-one",
  });
  assertEquals(config.geminiKeys, ["AIzaFAKE-TEST-a", "AIzaFAKE-TEST-b", "AQ.FAKE-TEST-c"]);
  assertEquals(config.proxyTokens, ["gp-one", "gp-two"]);
  assertEquals(splitSecrets("  "), []);
});

Deno.test("parseConfig() accepts a Cloudflare AI Gateway upstream and strips the trailing slash", () => {
  const config = parseConfig({
    UPSTREAM_URL: "https://gateway.ai.cloudflare.com/v1/ACCOUNT/GATEWAY/google-ai-studio/",
    CF_AIG_TOKEN: "cf-test-token",
  });
  assertEquals(
    config.upstreamUrl,
    "https://gateway.ai.cloudflare.com/v1/ACCOUNT/GATEWAY/google-ai-studio",
  );
  assertEquals(config.cfAigToken, "cf-test-token");
});

Deno.test("parseConfig() names the bad variable and its value", () => {
  const error = assertThrows(() => parseConfig({ PORT: "eighty" }), "PORT");
  assertStringIncludes(error.message, '"eighty"');
  assertThrows(() => parseConfig({ PORT: "70000" }), "PORT");
  assertThrows(() => parseConfig({ UPSTREAM_URL: "ftp://example.com" }), "UPSTREAM_URL");
  assertThrows(() => parseConfig({ STORE: "redis" }), "STORE");
  assertThrows(() => parseConfig({ LOG_LEVEL: "loud" }), "LOG_LEVEL");
});

Deno.test("parseConfig() never echoes a secret variable's value in its error", () => {
  const error = assertThrows(() => parseConfig({ SECRET_KEY: "short-secret" }), "SECRET_KEY");
  assertNotIncludes(error.message, "short-secret");
  const admin = assertThrows(() => parseConfig({ ADMIN_PASSWORD: "abc" }), "ADMIN_PASSWORD");
  assertNotIncludes(admin.message, '"abc"');
});

Deno.test("parseConfig() reads COOKIE_SECURE (auto by default) and names a bad value", () => {
  assertEquals(parseConfig({}).cookieSecure, "auto");
  assertEquals(parseConfig({ COOKIE_SECURE: "never" }).cookieSecure, "never");
  assertEquals(parseConfig({ COOKIE_SECURE: "always" }).cookieSecure, "always");
  const error = assertThrows(() => parseConfig({ COOKIE_SECURE: "sometimes" }), "COOKIE_SECURE");
  assertStringIncludes(error.message, '"sometimes"');
});

Deno.test("parseConfig() accepts a fallback pinned to a Supabase region and refuses other queries", () => {
  const relay = { RELAY_SECRET: "relay-secret-0123456789" };
  const config = parseConfig({
    ...relay,
    FALLBACK_PROXY_URLS:
      "https://ref.supabase.co/functions/v1/proxy/?forceFunctionRegion=EU-West-3 " +
      "https://other.example.net/",
  });
  assertEquals(config.fallbackProxyUrls, [
    "https://ref.supabase.co/functions/v1/proxy?forceFunctionRegion=eu-west-3",
    "https://other.example.net",
  ]);
  for (
    const bad of [
      "https://ref.supabase.co/functions/v1/proxy?region=eu-west-3",
      "https://ref.supabase.co/functions/v1/proxy?forceFunctionRegion=eu-west-3&x=1",
      "https://ref.supabase.co/functions/v1/proxy?forceFunctionRegion=eu west",
      "https://ref.supabase.co/functions/v1/proxy?forceFunctionRegion=",
      "https://user@ref.supabase.co/functions/v1/proxy",
      "ftp://ref.supabase.co/",
    ]
  ) {
    assertThrows(() => parseConfig({ ...relay, FALLBACK_PROXY_URLS: bad }), "FALLBACK_PROXY_URLS");
  }
});

Deno.test("parseConfig() takes the region from REGION before DENO_REGION", () => {
  assertEquals(parseConfig({}).region, undefined);
  assertEquals(parseConfig({ DENO_REGION: "us-east4" }).region, "us-east4");
  assertEquals(parseConfig({ DENO_REGION: "us-east4", REGION: "eu" }).region, "eu");
  assertThrows(() => parseConfig({ REGION: "eu west<script>" }), "REGION");
});
