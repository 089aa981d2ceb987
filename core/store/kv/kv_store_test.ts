import { runStoreContract } from "../../../tests/support/store_contract/mod.ts";
import { createKvStore } from "./kv_store.ts";

runStoreContract("deno kv", async () => {
  const clock = { now: 1_700_000_000_000 };
  const kv = await Deno.openKv(":memory:");
  return { store: createKvStore(kv, { now: () => clock.now }), clock };
});

runStoreContract("deno kv file", async () => {
  const clock = { now: 1_700_000_000_000 };
  const dir = await Deno.makeTempDir();
  const kv = await Deno.openKv(`${dir}/test.kv`);
  return {
    store: createKvStore(kv, { now: () => clock.now }),
    clock,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
