import { startHarness } from "./tests/harness.ts";
Deno.test({ name: "debug", sanitizeOps: false, sanitizeResources: false, async fn() {
  const h = await startHarness({ env: { ADMIN_PASSWORD: "browser-test-admin-password" } });
  for (let i = 0; i < 4; i++) await (await h.generate()).arrayBuffer();
  await h.proxy.gateway.sync();
  await new Promise((r) => setTimeout(r, 600));
  const r = await fetch(`${h.proxy.url}/admin/api/keys`, { headers: { authorization: "Bearer browser-test-admin-password" } });
  console.log(JSON.stringify((await r.json()).keys.map((k: any) => [k.masked, k.usageToday, k.lastUsedAt])));
  await h.close();
}});
