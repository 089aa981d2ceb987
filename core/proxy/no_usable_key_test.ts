import { assertEquals } from "../../tests/support/assert.ts";
import { createKeyPool } from "../rotation/key_pool.ts";
import type { ActiveKey, Registry } from "../rotation/registry.ts";
import { noUsableKey } from "./no_usable_key.ts";

function setUp(enabled: boolean[], now = 1_000_000) {
  const keys: ActiveKey[] = enabled.map((on, i) => ({
    id: `k${i}`,
    value: `AIzaFAKE-TEST-${i}`,
    record: {
      id: `k${i}`,
      sealed: "",
      masked: "",
      enabled: on,
      source: "env",
      createdAt: i,
    },
  }));
  const registry = {
    keys,
    enabledKeys: keys.filter((k) => k.record.enabled),
  } as unknown as Registry;
  const pool = createKeyPool(registry, { now: () => now, strategy: () => "round_robin" });
  return { registry, pool, now };
}

function errorInfo(error: { details: Array<Record<string, unknown>> }) {
  return error.details.find((d) => String(d["@type"]).endsWith("ErrorInfo"));
}

Deno.test("noUsableKey() answers 503 NO_USABLE_KEY when every key is disabled", () => {
  const error = noUsableKey("gemini-2.5-flash", setUp([false, false]));
  assertEquals([error.code, error.status], [503, "UNAVAILABLE"]);
  assertEquals(errorInfo(error), {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: "NO_USABLE_KEY",
    domain: "gemini-proxy",
    metadata: { configured: "2", disabled: "2", cooling: "0" },
  });
});

Deno.test("noUsableKey() answers 503 naming GEMINI_API_KEYS when no key is configured", () => {
  const error = noUsableKey(null, setUp([]));
  assertEquals(error.code, 503);
  assertEquals(error.message.includes("GEMINI_API_KEYS"), true);
});

Deno.test("noUsableKey() answers 429 ALL_KEYS_COOLING with Retry-After while keys rest", () => {
  const view = setUp([true, false, true]);
  for (const [scope, seconds] of [["k:k0", 40], ["k:k2", 25]] as const) {
    view.pool.applyCooldown({
      scope,
      model: "gemini-2.5-flash",
      until: view.now + seconds * 1000,
      reason: "q",
    });
  }
  const error = noUsableKey("gemini-2.5-flash", view);
  assertEquals([error.code, error.status, error.headers["retry-after"]], [
    429,
    "RESOURCE_EXHAUSTED",
    "25",
  ]);
  assertEquals(errorInfo(error)?.metadata, { configured: "3", disabled: "1", cooling: "2" });
  assertEquals(error.details.at(-1)?.retryDelay, "25s");
});

Deno.test("noUsableKey() answers 503 when usable keys remain but this request's keys were retired", () => {
  const error = noUsableKey("gemini-2.5-flash", setUp([false, true]));
  assertEquals([error.code, errorInfo(error)?.reason], [503, "NO_USABLE_KEY"]);
  assertEquals(errorInfo(error)?.metadata, { configured: "2", disabled: "1", cooling: "0" });
});
