/**
 * The Vercel Edge Function: `deno task build:vercel` bundles this module into
 * `.vercel/output/functions/proxy.func/index.js`, which `vercel deploy --prebuilt` uploads. Its
 * default export is the handler Vercel calls for every path (`config.json` routes them all here).
 * @module
 */
import { handleVercelRequest, type VercelContext } from "./vercel_app.ts";

/**
 * Serves one request with the function's environment.
 * @param request The client request.
 * @param context Vercel's context (`waitUntil`).
 * @returns The response.
 */
export default function handler(request: Request, context?: VercelContext): Promise<Response> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env ?? {};
  return handleVercelRequest(request, env, context);
}
