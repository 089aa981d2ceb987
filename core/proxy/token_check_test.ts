import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { HttpError } from "../errors.ts";
import type { Registry } from "../rotation/mod.ts";
import { sha256Hex } from "../secrets/mod.ts";
import type { TokenRecord } from "../store/mod.ts";
import { checkToken } from "./token_check.ts";

const NOW = Date.parse("2026-01-15T20:00:00Z");

/** A registry holding the given tokens by the hash of their secrets. */
async function registryOf(tokens: Record<string, Partial<TokenRecord>>): Promise<Registry> {
  const byHash = new Map<string, TokenRecord>();
  for (const [secret, extra] of Object.entries(tokens)) {
    byHash.set(await sha256Hex(secret), {
      id: secret,
      name: `app ${secret}`,
      hash: await sha256Hex(secret),
      masked: "gp-...",
      enabled: true,
      source: "admin",
      createdAt: 0,
      ...extra,
    });
  }
  return { tokenByHash: (hash: string) => byHash.get(hash) } as unknown as Registry;
}

Deno.test("checkToken() answers a credential seen lately at once, with no promise to await", async () => {
  const secret = `gp-check-${crypto.randomUUID()}`;
  const registry = await registryOf({ [secret]: {} });
  const first = checkToken(registry, secret, NOW);
  assert(first instanceof Promise, "a new credential is hashed first");
  assertEquals((await first).id, secret);
  const again = checkToken(registry, secret, NOW);
  assert(!(again instanceof Promise), "its hash is kept");
  assertEquals(again.id, secret);
});

Deno.test("checkToken() refuses by a rejected promise, never a synchronous throw", async () => {
  const disabled = `gp-off-${crypto.randomUUID()}`;
  const expired = `gp-old-${crypto.randomUUID()}`;
  const registry = await registryOf({
    [disabled]: { enabled: false },
    [expired]: { expiresAt: NOW - 1 },
  });
  const cases: [string | null, number, string][] = [
    [null, 401, "Missing proxy token"],
    ["", 401, "Missing proxy token"],
    [`gp-unknown-${crypto.randomUUID()}`, 401, "not valid"],
    [disabled, 403, "is disabled"],
    [expired, 403, "has expired"],
  ];
  // Twice: the second time the hashes are kept and the check runs at once.
  for (let round = 0; round < 2; round++) {
    for (const [credential, status, text] of cases) {
      let answer: unknown;
      try {
        answer = checkToken(registry, credential, NOW);
      } catch (error) {
        throw new Error(`threw synchronously for ${credential}: ${error}`);
      }
      assert(answer instanceof Promise, `a refusal is a promise (${credential})`);
      const error = await assertRejects(() => answer, text);
      assert(error instanceof HttpError && error.code === status, `${credential}: ${error}`);
    }
  }
});

Deno.test("checkToken() never keeps the hash of a huge credential: a flood of them grows nothing", async () => {
  const registry = await registryOf({});
  const huge = "x".repeat(257);
  for (let i = 0; i < 2; i++) {
    const answer = checkToken(registry, huge, NOW);
    assert(answer instanceof Promise, "hashed every time");
    await assertRejects(() => answer, "not valid");
  }
});
