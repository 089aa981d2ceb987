/**
 * The {@linkcode Store} on Supabase (Postgres): every call is one SQL function (`supabase/
 * migrations/`) through PostgREST, so the store runs wherever `fetch` does: the Supabase Edge
 * Function, a Cloudflare Worker, a Vercel Edge Function, the Deno and Node.js servers.
 *
 * - {@linkcode createSupabaseStore}: the store over a client.
 * - {@linkcode createServiceClient}: a supabase-js client with the service role key.
 * - {@linkcode createPostgrestServiceClient}: PostgREST alone, which is all the store calls; it
 *   keeps auth, realtime and storage out of bundles.
 * @module
 */
export { createSupabaseStore, type SupabaseStoreOptions } from "./supabase_store.ts";
export { createServiceClient, type ServiceClientOptions } from "./supabase_client.ts";
export { createPostgrestServiceClient } from "./postgrest_client.ts";
