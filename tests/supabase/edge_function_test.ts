/**
 * The Supabase Edge Function passes the proxy contract suite: `supabase/functions/proxy/index.ts`
 * runs in its own Deno process (as the edge runtime runs it: `Deno.serve`, configuration from
 * the environment, `SUPABASE_URL` and `SUPABASE_SERVICE_ROLE_KEY` provided), on a fresh Postgres
 * database behind the PostgREST-compatible shim, and clients reach it under its function path
 * `/functions/v1/proxy`.
 * @module
 */
import { runProxyContract } from "../support/proxy_contract/mod.ts";
import { startSupabaseStack } from "../support/supabase_stack.ts";
import { type FunctionProcess, startFunctionProcess } from "../support/function_process.ts";

const stack = await startSupabaseStack();

runProxyContract("supabase edge function", async (options) => {
  const project = await stack.createProject();
  let fn: FunctionProcess;
  try {
    fn = await startFunctionProcess({
      SUPABASE_URL: project.url,
      SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
      SECRET_KEY: "test-secret-key-0123456789",
      LOG_LEVEL: "debug",
      UPSTREAM_URL: options.upstreamUrl,
      GEMINI_API_KEYS: options.keys.join(","),
      PROXY_TOKENS: options.tokens.join("\n"),
      ...options.env,
    });
  } catch (error) {
    await project.close();
    throw error;
  }
  return {
    url: `${fn.origin}/functions/v1/proxy`,
    logs: fn.logs,
    async close() {
      await fn.close();
      await project.close();
    },
  };
});

Deno.test("supabase edge function: the test PostgreSQL stops", () => stack.close());
