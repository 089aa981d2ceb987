/**
 * The Node.js entry: `deno task build:node` bundles this module into `dist/node/server.mjs`, and
 * `node dist/node/server.mjs` reads the environment and serves the proxy and the admin console
 * (its assets from `static/` beside the bundle).
 * @module
 */
import process from "node:process";
import { type RunningNodeServer, startNodeServer } from "./server.ts";

/**
 * Starts the server from `process.env`, prints where it listens, and stops gracefully on SIGINT
 * or SIGTERM (open responses finish; queued logs and counters are written). The signal handlers
 * are in place before the address is printed, so a supervisor that signals as soon as it sees
 * the line never kills the process mid-write.
 */
async function main(): Promise<void> {
  let server: RunningNodeServer | null = null;
  let stopping = false;
  const stop = async () => {
    if (stopping || !server) process.exit(1);
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    server = await startNodeServer(process.env, {
      assets: new URL("./static/", import.meta.url),
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  console.log(`Gemini Proxy listening on ${server.url}`);
}

await main();
