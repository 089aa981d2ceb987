/**
 * Production entry for Deno (local and Deno Deploy): reads the environment and serves the proxy.
 * @module
 */
import { startServer } from "./adapters/deno/server.ts";

if (import.meta.main) {
  try {
    await startServer(Deno.env.toObject(), {
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(`Gemini Proxy listening on http://${host}:${port}`);
      },
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
