import { runStoreContract } from "../../tests/support/store_contract/mod.ts";
import { createMemoryStore } from "./memory_store.ts";

runStoreContract("memory", () => {
  const clock = { now: 1_700_000_000_000 };
  return Promise.resolve({ store: createMemoryStore({ now: () => clock.now }), clock });
});
