/**
 * The Worker's client for the Supabase store: PostgREST alone. The store only calls SQL functions
 * (`client.rpc`), which supabase-js delegates to `PostgrestClient`; leaving out auth, realtime and
 * storage keeps about 55 KB (gzipped) out of the Worker.
 * @module
 */
import { PostgrestClient } from "@supabase/postgrest-js";
import type { SupabaseClient } from "@supabase/supabase-js";

/**
 * Creates a PostgREST client for a Supabase project, authenticated with the service role key as
 * supabase-js authenticates it.
 * @param url Project URL, e.g. `https://abcd1234.supabase.co`.
 * @param serviceRoleKey The project's service role key (a Worker secret).
 * @returns A client the Supabase store accepts: it has supabase-js's `rpc` and `from`.
 */
export function createPostgrestServiceClient(url: string, serviceRoleKey: string): SupabaseClient {
  const client = new PostgrestClient(`${url.replace(/\/+$/, "")}/rest/v1`, {
    headers: { apikey: serviceRoleKey, authorization: `Bearer ${serviceRoleKey}` },
    // Workers' fetch must be called with the global as `this`.
    fetch: (input, init) => fetch(input, init),
  });
  // The store uses only the database half of SupabaseClient, which is this class's own API.
  return client as unknown as SupabaseClient;
}
