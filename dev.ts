/**
 * Development entry: builds the admin console (route manifest and island bundles), then serves the
 * proxy with debug logging and an in-repo KV file; `deno task dev` restarts it, rebuilding, when a
 * source file changes.
 * @module
 */
import { buildConsole } from "./adapters/_shared/console_build.ts";
import { startServer } from "./adapters/deno/server.ts";

if (import.meta.main) {
  await buildConsole({ verbose: true });
  const env = { LOG_LEVEL: "debug", ...Deno.env.toObject() };
  const server = await startServer(env);
  console.log(`Gemini Proxy (dev) listening on ${server.url}`);
}
