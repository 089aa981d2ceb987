/**
 * The Node.js server's store: Deno KV on a local SQLite file through the npm package `@deno/kv`,
 * run by the same KV store code as the Deno server; or the Supabase store; or memory.
 * @module
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { openKv } from "@deno/kv";
import type { Config } from "../../core/config/mod.ts";
import { createMemoryStore, type Store } from "../../core/store/mod.ts";
import {
  createPostgrestServiceClient,
  createSupabaseStore,
} from "../../core/store/supabase/mod.ts";
import { createKvStore, type KvDatabase } from "../../core/store/kv/mod.ts";

/** What V8 says when it meets values serialized by a newer V8 (Deno's) than its own. */
const NEWER_V8 = /Unable to deserialize cloned data/;

/**
 * Opens the configured store.
 * @param config Parsed configuration (`STORE`, `KV_PATH`, Supabase settings).
 * @param now Clock (epoch ms).
 * @returns The store.
 * @throws {Error} When `KV_PATH` holds values a Deno process wrote, which Node.js cannot read.
 */
export async function openNodeStore(config: Config, now: () => number): Promise<Store> {
  if (config.store === "memory") return createMemoryStore({ now });
  if (config.store === "supabase") {
    // parseConfig made sure both are set. PostgREST alone: supabase-js's realtime client wants
    // a global WebSocket, which Node.js 20 lacks, and the store never uses it.
    return createSupabaseStore(
      createPostgrestServiceClient(config.supabaseUrl!, config.supabaseServiceRoleKey!),
      { now },
    );
  }
  await mkdir(dirname(config.kvPath), { recursive: true });
  // `@deno/kv` declares its own copy of Deno KV's types, whose generic `get` TypeScript cannot
  // unify with Deno's, though the methods and their results are the same: the store contract
  // suite runs on this very handle (node_store_test.ts).
  const kv = await openKv(config.kvPath) as unknown as KvDatabase;
  try {
    await assertReadable(kv);
  } catch (error) {
    kv.close();
    if (!NEWER_V8.test(String(error))) throw error;
    throw new Error(
      `Invalid configuration:\n  KV_PATH: "${config.kvPath}" holds values written by Deno, ` +
        "which Node.js cannot read (V8 serializes them differently); give the Node.js server " +
        "its own file, or use STORE=supabase to share one store",
    );
  }
  return createKvStore(kv, { now });
}

/** Reads one record of each kind the app reads at start-up, so a foreign file fails here. */
async function assertReadable(kv: KvDatabase): Promise<void> {
  await kv.get(["settings"]);
  for (const prefix of ["keys", "tokens", "keystate", "logs", "logp"]) {
    for await (const _ of kv.list({ prefix: [prefix] }, { limit: 1 })) break;
  }
}
