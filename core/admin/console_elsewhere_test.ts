import {
  assert,
  assertEquals,
  assertNotIncludes,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { consoleElsewhere } from "./console_elsewhere.ts";

const html = { headers: { accept: "text/html,application/xhtml+xml" } };

Deno.test("consoleElsewhere() shows browsers a page linking to CONSOLE_URL", async () => {
  const response = consoleElsewhere(new Request("https://edge.example/admin", html), {
    host: "Vercel Edge Function",
    consoleUrl: "https://console.example/admin",
  });
  assertEquals(response.status, 404);
  assertEquals(response.headers.get("content-type"), "text/html; charset=utf-8");
  assertEquals(response.headers.get("content-security-policy"), "default-src 'none'");
  const page = await response.text();
  assertStringIncludes(page, '<a href="https://console.example/admin">');
  assertStringIncludes(page, "This Vercel Edge Function serves the proxy");
});

Deno.test("consoleElsewhere() without CONSOLE_URL says how to run the console on the same store", async () => {
  const page = await consoleElsewhere(new Request("https://w.example/admin/keys", html), {
    host: "Cloudflare Worker",
  }).text();
  assertStringIncludes(page, "deno task start");
  assertStringIncludes(page, "STORE=supabase");
  assertStringIncludes(page, "CONSOLE_URL");
  assertNotIncludes(page, "<a ");
});

Deno.test("consoleElsewhere() answers API clients in Google's envelope with a Help link", async () => {
  const response = consoleElsewhere(new Request("https://w.example/admin"), {
    host: "Cloudflare Worker",
    consoleUrl: "https://console.example/admin",
  });
  assertEquals(response.status, 404);
  const { error } = await response.json();
  assertEquals(error.status, "NOT_FOUND");
  assertEquals(error.details[0].reason, "CONSOLE_ELSEWHERE");
  assertEquals(error.details[1].links[0].url, "https://console.example/admin");
  assertStringIncludes(error.message, "/admin/api");
});

Deno.test("consoleElsewhere() escapes a hostile CONSOLE_URL in the page", async () => {
  const hostile = 'https://x.example/"><script>alert(1)</script>';
  const page = await consoleElsewhere(new Request("https://w.example/admin", html), {
    host: "Cloudflare Worker",
    consoleUrl: hostile,
  }).text();
  assertNotIncludes(page, "<script>");
  assert(page.includes("&#34;&#62;&#60;script&#62;"), "quotes and brackets are escaped");
});
