/**
 * Starts Gemini Proxy exactly as `main.ts` does, but with its environment read from a JSON file
 * named on the command line: the 10,000-key scaling row needs a GEMINI_API_KEYS of about 210 KB,
 * over Linux's 128 KiB limit for one environment string, so it cannot be passed through exec.
 *
 * Usage: `deno run -A --unstable-kv bench/proxy_env_file.ts /tmp/env.json`
 * @module
 */
import { addressUrl, startServer } from "../adapters/deno/server.ts";

if (import.meta.main) {
  const path = Deno.args[0];
  if (!path) throw new Error("Usage: proxy_env_file.ts <env.json>");
  const fromFile = JSON.parse(await Deno.readTextFile(path)) as Record<string, string>;
  await startServer({ ...Deno.env.toObject(), ...fromFile }, {
    onListen: (addr) => console.log(`Gemini Proxy listening on ${addressUrl(addr)}`),
  });
}
