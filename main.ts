/**
 * Production entry for Deno (local and Deno Deploy): reads the environment and serves the proxy.
 * @module
 */
import { addressUrl, startServer } from "./adapters/deno/server.ts";

if (import.meta.main) {
  let server;
  try {
    server = await startServer(Deno.env.toObject(), {
      onListen: (addr) => console.log(`Gemini Proxy listening on ${addressUrl(addr)}`),
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
  // Stop gracefully: finish open responses and write queued logs and counters before exiting.
  const running = server;
  let stopping = false;
  const stop = async () => {
    if (stopping) Deno.exit(1);
    stopping = true;
    await running.close();
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Not every platform delivers every signal (Windows has no SIGTERM).
    }
  }
}
