/**
 * The KV store on `@deno/kv`'s own SQLite implementation (its native addon, the one the Node.js
 * server loads) passes the store contract suite, as it does on `Deno.openKv`. The handle is
 * opened here under Deno with `implementation: "sqlite"`, which skips `@deno/kv`'s hand-off to
 * Deno's built-in KV; on Node.js the same addon runs under the proxy contract suite
 * (node_server_test.ts).
 * @module
 */
import { openKv } from "@deno/kv";
import { runStoreContract } from "../../tests/support/store_contract/mod.ts";
import { createKvStore, type KvDatabase } from "../../core/store/kv/mod.ts";

runStoreContract("@deno/kv sqlite", async () => {
  const clock = { now: 1_700_000_000_000 };
  const dir = await Deno.makeTempDir();
  const kv = await openKv(`${dir}/test.kv`, { implementation: "sqlite" });
  if (kv.constructor.name !== "NapiBasedKv") throw new Error(`got ${kv.constructor.name}`);
  return {
    store: createKvStore(kv as unknown as KvDatabase, { now: () => clock.now }),
    clock,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
