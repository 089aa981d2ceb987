/**
 * The console loaded on first use: a host that hands in a manifest loader keeps the console's
 * pages and their packages out of memory until someone opens the console.
 */
import { createApp } from "../core/app.ts";
import { parseConfig } from "../core/config/config.ts";
import { createMemoryStore } from "../core/store/memory_store.ts";
import type { Manifest } from "../core/web/mod.ts";
import { assert, assertEquals } from "./support/assert.ts";

const ADMIN = "lazy-console-password-0001";

async function appWith(load: () => Promise<Manifest>) {
  const config = parseConfig({ SECRET_KEY: "lazy-console-secret-0123456", ADMIN_PASSWORD: ADMIN });
  return await createApp({ config, store: createMemoryStore(), loadManifest: load });
}

Deno.test("the console's pages are loaded on the first console request, once", async () => {
  let loads = 0;
  const gateway = await appWith(async () => {
    loads++;
    return (await import("../routes/_manifest.gen.ts")).manifest;
  });
  // Start-up, health checks, the admin API and the proxy never load the pages.
  assertEquals((await gateway.fetch(new Request("http://proxy.test/healthz"))).status, 200);
  const api = await gateway.fetch(new Request("http://proxy.test/admin/api/keys"));
  await api.body?.cancel();
  assertEquals(api.status, 401);
  const proxied = await gateway.fetch(
    new Request("http://proxy.test/v1beta/models/gemini-2.5-flash:generateContent", {
      method: "POST",
      body: "{}",
    }),
  );
  await proxied.body?.cancel();
  assertEquals(loads, 0);

  const login = await gateway.fetch(new Request("http://proxy.test/admin/login"));
  assertEquals(login.status, 200);
  assert((await login.text()).includes("<form"), "the sign-in page renders");
  const again = await gateway.fetch(new Request("http://proxy.test/admin"));
  await again.body?.cancel();
  assert(again.status < 500, `status ${again.status}`);
  assertEquals(loads, 1);
  await gateway.sync(true);
});

Deno.test("a console that fails to load answers 500 and is tried again on the next request", async () => {
  let loads = 0;
  const gateway = await appWith(async () => {
    if (++loads === 1) throw new Error("module missing");
    return (await import("../routes/_manifest.gen.ts")).manifest;
  });
  const failed = await gateway.fetch(new Request("http://proxy.test/admin/login"));
  assertEquals(failed.status, 500);
  const body = await failed.text();
  assert(!body.includes("module missing"), "only deliberate messages reach clients");
  const login = await gateway.fetch(new Request("http://proxy.test/admin/login"));
  await login.body?.cancel();
  assertEquals(login.status, 200);
  assertEquals(loads, 2);
  await gateway.sync(true);
});
