/**
 * Supabase Edge Function entry: the Gemini proxy on the project's Postgres store.
 *
 * Deploy with `supabase functions deploy proxy --no-verify-jwt` (clients authenticate with proxy
 * tokens, not Supabase JWTs); clients use `https://<project>.supabase.co/functions/v1/proxy` as
 * their base URL. See "Deploy on Supabase" in the README.
 * @module
 */
import { createEdgeProxy } from "../../../adapters/supabase/edge_function.ts";

const proxy = createEdgeProxy(Deno.env.toObject());

// The runtime announces the end of a worker: write what is still queued.
addEventListener("beforeunload", () => void proxy.flush());

Deno.serve(proxy.fetch);
