/**
 * The supabase-js client the store uses: service role key, no session, no realtime.
 * @module
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";

/** Options of {@linkcode createServiceClient}. */
export interface ServiceClientOptions {
  /** fetch to reach Supabase with (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * Creates a supabase-js client for the proxy's store. The service role key bypasses row-level
 * security, so it belongs on servers only (an Edge Function, the admin console, a Worker secret).
 * @param url Project URL, e.g. `https://abcd1234.supabase.co`.
 * @param serviceRoleKey The project's service role (secret) key.
 * @param options Injected fetch.
 * @returns The client.
 */
export function createServiceClient(
  url: string,
  serviceRoleKey: string,
  options: ServiceClientOptions = {},
): SupabaseClient {
  return createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
  });
}
