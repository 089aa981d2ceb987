/**
 * Starts Gemini Proxy as `bench/proxy_env_file.ts` does (the same `startServer` call as
 * `main.ts`, environment from a JSON file), with one difference: every Deno KV handle the process
 * opens counts the reads it serves (`tests/support/read_counter.ts`: `get`, `getMany`, `list` and
 * `watch` calls, and the entries listings return). On SIGUSR1 the counts are written as JSON to
 * the file named second on the command line, so the benchmark reads the store reads of a window
 * without stopping the proxy.
 *
 * The counter wraps the handle `Deno.openKv` returns, in this bench entry only: the proxy's code
 * is the production code, and each count is a real round trip to the database.
 *
 * Usage: `deno run -A --unstable-kv bench/proxy_counted.ts /tmp/env.json /tmp/reads.json`
 * @module
 */
import { addressUrl, startServer } from "../adapters/deno/server.ts";
import { countReads, zeroReads } from "../tests/support/read_counter.ts";

if (import.meta.main) {
  const [path, readsFile] = Deno.args;
  if (!path || !readsFile) throw new Error("Usage: proxy_counted.ts <env.json> <reads.json>");
  const counts = zeroReads();
  const openKv = Deno.openKv.bind(Deno);
  // `Deno.openKv` is a getter on the namespace: redefined, not assigned.
  Object.defineProperty(Deno, "openKv", {
    value: async (...args: Parameters<typeof Deno.openKv>) =>
      countReads(await openKv(...args), counts),
  });
  Deno.addSignalListener("SIGUSR1", () => {
    Deno.writeTextFileSync(readsFile, JSON.stringify(counts));
  });
  const fromFile = JSON.parse(await Deno.readTextFile(path)) as Record<string, string>;
  await startServer({ ...Deno.env.toObject(), ...fromFile }, {
    onListen: (addr) => console.log(`Gemini Proxy listening on ${addressUrl(addr)}`),
  });
}
