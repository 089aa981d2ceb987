import { assert, assertEquals } from "../../tests/support/assert.ts";
import { parseConfig } from "./config.ts";
import { HttpError } from "../errors.ts";
import { createSettings, liveConfig } from "./settings.ts";
import { createMemoryStore } from "../store/memory_store.ts";

Deno.test("parseConfig() records which variables were explicitly set", () => {
  const config = parseConfig({ MAX_ATTEMPTS: "5", LOG_BODIES: " ", PORT: "8001" });
  assertEquals(config.forced.sort(), ["MAX_ATTEMPTS", "PORT"]);
});

Deno.test("createSettings() puts saved values over defaults and environment values over both", async () => {
  const store = createMemoryStore();
  await store.putSettings({ maxAttempts: 7, strategy: "weighted", logBodies: "bogus" });
  const settings = await createSettings(store, parseConfig({ ROTATION_STRATEGY: "least_used" }));
  assertEquals(settings.current.maxAttempts, 7);
  assertEquals(settings.current.strategy, "least_used", "forced by the environment");
  assertEquals(settings.current.logBodies, "none", "an invalid saved value is ignored");
  assertEquals(settings.forced, { strategy: "ROTATION_STRATEGY" });
  assertEquals(settings.stored, { maxAttempts: 7, strategy: "weighted" });
});

Deno.test("settings.save() applies at once, keeps unknown keys, clears with null, refuses forced ones", async () => {
  const store = createMemoryStore();
  await store.putSettings({ fromANewerVersion: true });
  const settings = await createSettings(store, parseConfig({ UPSTREAM_URL: "http://127.0.0.1:9" }));
  const config = liveConfig(parseConfig({}), settings);
  await settings.save({ maxAttempts: 2, logRetentionDays: 1 });
  assertEquals([config.maxAttempts, config.logRetentionMs], [2, 86_400_000]);
  assertEquals((await store.getSettings()).fromANewerVersion, true);
  await settings.save({ maxAttempts: null });
  assertEquals(config.maxAttempts, 3);
  let refused: unknown;
  try {
    await settings.save({ upstreamUrl: "https://example.com" });
  } catch (error) {
    refused = error;
  }
  assert(refused instanceof HttpError && refused.code === 409);
});

Deno.test("settings.sync() follows a change saved by another process sharing the store", async () => {
  const store = createMemoryStore();
  const config = parseConfig({});
  const a = await createSettings(store, config);
  const b = await createSettings(store, config);
  await a.save({ waitWhenExhaustedMs: 5000 });
  assertEquals(b.current.waitWhenExhaustedMs, 0);
  await b.sync();
  assertEquals(b.current.waitWhenExhaustedMs, 5000);
});
