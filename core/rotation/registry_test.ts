import { assertEquals } from "../../tests/support/assert.ts";
import { checkToken as authenticate } from "../proxy/token_check.ts";
import { HttpError } from "../errors.ts";
import { createRegistry, type Registry } from "./registry.ts";
import { createCipher, randomSecret, sha256Hex } from "../secrets/secrets.ts";
import { importSecrets, keyId } from "../secrets/seed.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/mod.ts";

const SECRET = "test-secret-key-0123456789";
const OLD = "gp-TEST-registry-token-old-0001";
const NEW = "gp-TEST-registry-token-new-0002";
const KEY = "AIzaFAKE-TEST-key-000000000000000000001";

/**
 * One store shared by an admin instance (writing directly) and a proxy instance (a registry),
 * with the store's version probes counted, on a movable clock.
 */
async function setUp() {
  const clock = { now: Date.parse("2026-01-15T20:00:00Z") };
  const now = () => clock.now;
  const cipher = await createCipher(SECRET);
  const store = createMemoryStore({ now });
  await importSecrets(store, { keys: [KEY], tokens: [OLD], cipher, now });
  const probes = { count: 0 };
  const counted: Store = {
    ...store,
    version() {
      probes.count++;
      return store.version();
    },
  };
  const registry = await createRegistry(counted, { cipher, now });
  probes.count = 0;
  return { clock, now, cipher, store, registry, probes };
}

/** Authenticates the way the proxy does: a fresh-enough view first. */
async function admit(registry: Registry, secret: string, now: number): Promise<string> {
  await registry.ensureFresh();
  try {
    return (await authenticate(registry, secret, now)).id;
  } catch (error) {
    if (error instanceof HttpError) return String(error.code);
    throw error;
  }
}

Deno.test("ensureFresh(): after 15 s idle, a token revoked and one created elsewhere take effect on the next request", async () => {
  const { clock, now, cipher, store, registry } = await setUp();
  const old = (await store.listTokens())[0]!;
  assertEquals(await admit(registry, OLD, now()), old.id);
  clock.now += 15_000;
  await store.deleteToken(old.id);
  await importSecrets(store, { keys: [], tokens: [NEW], cipher, now });
  assertEquals(await admit(registry, OLD, now()), "401", "the revoked token is refused at once");
  const created = (await store.listTokens()).find((t) => t.id !== old.id)!;
  assertEquals(await admit(registry, NEW, now()), created.id, "the new token is accepted");
});

Deno.test("ensureFresh(): a key disabled elsewhere leaves the pool on the next request after the bound", async () => {
  const { clock, store, registry } = await setUp();
  const id = await keyId(KEY);
  assertEquals(registry.enabledKeys.map((k) => k.id), [id]);
  await store.setKeyEnabled(id, false, { reason: "disabled by an admin", at: clock.now });
  clock.now += 1000;
  await registry.ensureFresh();
  assertEquals(registry.enabledKeys.length, 0);
});

Deno.test("ensureFresh(): a flood of unknown tokens costs one version probe per second at most", async () => {
  const { clock, now, registry, probes } = await setUp();
  clock.now += 15_000;
  const flood = () =>
    Promise.all(
      Array.from({ length: 1000 }, () => admit(registry, randomSecret("gp-", 24), now())),
    );
  assertEquals(new Set(await flood()), new Set(["401"]));
  assertEquals(probes.count, 1, "1000 concurrent stale requests shared one probe");
  clock.now += 999;
  await flood();
  assertEquals(probes.count, 1, "no probe within the second");
  clock.now += 1;
  await flood();
  assertEquals(probes.count, 2);
});

Deno.test("ensureFresh(): a fresh view costs no store round trip", async () => {
  const { clock, now, registry, probes } = await setUp();
  for (let i = 0; i < 100; i++) {
    clock.now += 9;
    assertEquals(await admit(registry, OLD, now()) === "401", false);
  }
  assertEquals(probes.count, 0);
});

Deno.test("an older reload that answers late never replaces a newer snapshot", async () => {
  const { now, cipher, store } = await setUp();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let slowNext = false;
  const read = Promise.withResolvers<void>();
  const slow: Store = {
    ...store,
    async listTokens() {
      const records = await store.listTokens();
      if (slowNext) {
        slowNext = false;
        read.resolve();
        await gate; // answers late, with what the store held when it read
      }
      return records;
    },
  };
  const registry = await createRegistry(slow, { cipher, now });
  await importSecrets(store, { keys: [], tokens: [NEW], cipher, now });
  slowNext = true;
  const late = registry.sync(); // reads the list holding NEW, answers late
  await read.promise;
  const hash = await sha256Hex(NEW);
  await store.deleteToken((await store.listTokens()).find((t) => t.hash === hash)!.id);
  await registry.reload(); // this instance's own write: read-your-writes
  release();
  await late;
  assertEquals(await admit(registry, NEW, now()), "401", "the late, older list was dropped");
});

Deno.test("the first load takes the keys importSecrets read, in the store's order, without listing again", async () => {
  const clock = { now: Date.parse("2026-01-15T20:00:00Z") };
  const now = () => clock.now;
  const cipher = await createCipher(SECRET);
  const store = createMemoryStore({ now });
  await importSecrets(store, {
    keys: ["AIzaFAKE-TEST-key-000000000000000000009"],
    tokens: [],
    cipher,
    now,
  });
  clock.now += 5;
  const keys = Array.from({ length: 5 }, (_, i) => `AIzaFAKE-TEST-key-00000000000000000000${i}`);
  const imported = await importSecrets(store, { keys, tokens: [], cipher, now });
  assertEquals(imported.keys, await store.listKeys());
  let listings = 0;
  const counted: Store = {
    ...store,
    listKeys() {
      listings++;
      return store.listKeys();
    },
  };
  const registry = await createRegistry(counted, {
    cipher,
    now,
    opened: imported.opened,
    firstKeys: imported.keys!,
  });
  assertEquals(listings, 0);
  assertEquals(registry.keys.map((k) => k.id), imported.keys!.map((k) => k.id));
  assertEquals(registry.keys.length, 6);
  await store.deleteKey(registry.keys[0]!.id);
  clock.now += 1000;
  await registry.ensureFresh();
  assertEquals([listings, registry.keys.length], [1, 5], "later loads list the store");
});

Deno.test("patchKey(): a reload that read the store before the patch's write landed does not bring a retired key back", async () => {
  const cipher = await createCipher(SECRET);
  const now = () => Date.parse("2026-01-15T20:00:00Z");
  const store = createMemoryStore({ now });
  await importSecrets(store, { keys: [KEY], tokens: [], cipher, now });
  // Each listKeys reads the store when called and answers when the test releases it.
  const calls: PromiseWithResolvers<() => void>[] = [Promise.withResolvers()];
  const slow: Store = {
    ...store,
    async listKeys() {
      const snapshot = await store.listKeys();
      const gate = Promise.withResolvers<void>();
      calls.at(-1)!.resolve(gate.resolve);
      calls.push(Promise.withResolvers());
      await gate.promise;
      return snapshot;
    },
  };
  const next = () => {
    const call = calls.at(-1)!;
    return async () => (await call.promise)();
  };
  const first = next();
  const loading = createRegistry(slow, { cipher, now });
  await first();
  const registry = await loading;
  const [key] = registry.keys;

  const staleRead = next();
  const stale = registry.reload();
  const write = Promise.withResolvers<void>();
  const retired = { ...key!.record, enabled: false, disabledReason: "API_KEY_INVALID" };
  registry.patchKey(retired, write.promise);
  assertEquals(registry.enabledKeys.length, 0, "retired here at once");
  await staleRead();
  await stale;
  assertEquals(registry.enabledKeys.length, 0, "a reload begun before the write keeps the patch");

  await store.setKeyEnabled(key!.id, false, { reason: "API_KEY_INVALID" });
  write.resolve();
  await write.promise;
  // Later an operator enables the key again in the store: a reload begun after the write landed
  // follows the store, and the patch is gone.
  await store.setKeyEnabled(key!.id, true);
  const freshRead = next();
  const fresh = registry.reload();
  await freshRead();
  await fresh;
  assertEquals(registry.enabledKeys.length, 1, "the store wins once the write has landed");
});
