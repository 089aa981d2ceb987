/**
 * The contract every {@linkcode Store} backend must pass. Each backend's test file calls
 * {@linkcode runStoreContract} with a factory for fresh, empty stores.
 * @module
 */
import { assertEquals, assertNotEquals } from "../assert.ts";
import { runAuthThrottleContract } from "./auth_throttle.ts";
import { runCostContract } from "./cost.ts";
import type { ContractTarget } from "./_fixtures.ts";
import { runKeyStateContract } from "./key_state.ts";
import { runKeysTokensContract } from "./keys_tokens.ts";
import { runLeasesContract } from "./leases.ts";
import { runLogPagingContract, runLogSearchContract } from "./logs.ts";
import { runRecordsContract } from "./records.ts";

export { type ContractTarget, sampleLog } from "./_fixtures.ts";

/**
 * Registers the contract tests for one backend.
 * @param name Backend name used in test names.
 * @param open Creates an empty store.
 */
export function runStoreContract(name: string, open: () => Promise<ContractTarget>): void {
  async function withStore(fn: (t: ContractTarget) => Promise<void>): Promise<void> {
    const target = await open();
    try {
      await fn(target);
    } finally {
      await target.store.close();
      await target.cleanup?.();
    }
  }

  runLogSearchContract(name, withStore);
  runLogPagingContract(name, withStore);
  runKeysTokensContract(name, withStore);
  runKeyStateContract(name, withStore);
  runRecordsContract(name, withStore);
  runLeasesContract(name, withStore);

  Deno.test(`${name} store: settings are replaced whole and bump the version`, () =>
    withStore(async ({ store }) => {
      assertEquals(await store.getSettings(), {});
      const v0 = await store.version();
      await store.putSettings({ rotationStrategy: "weighted", maxAttempts: 4 });
      assertEquals(await store.getSettings(), { rotationStrategy: "weighted", maxAttempts: 4 });
      assertNotEquals(await store.version(), v0);
      await store.putSettings({ logBodies: "errors" });
      assertEquals(await store.getSettings(), { logBodies: "errors" });
    }));

  runAuthThrottleContract(name, withStore);

  Deno.test(`${name} store: ping answers while the store is open`, () =>
    withStore(async ({ store }) => {
      await store.ping();
    }));

  runCostContract(name, withStore);
}
