/**
 * Development entry: serves the proxy with debug logging and an in-repo KV file; `deno task dev`
 * restarts it when a source file changes.
 * @module
 */
import { startServer } from "./adapters/deno/server.ts";

if (import.meta.main) {
  const env = { LOG_LEVEL: "debug", ...Deno.env.toObject() };
  const server = await startServer(env);
  console.log(`Gemini Proxy (dev) listening on ${server.url}`);
}
