/**
 * Serves a Build Output API v3 folder (`.vercel/output/`, from `deno task build:vercel`) with
 * Vercel's Edge Runtime emulator, the npm package `edge-runtime`, for tests on this machine:
 *
 *   EDGE_RUNTIME_MODULES=<node_modules holding edge-runtime> \
 *     node adapters/vercel/edge_runtime_runner.mjs .vercel/output
 *
 * It reads `config.json` (version 3, one route sending every path to one function), the
 * function's `.vc-config.json` (runtime `edge`), and evaluates its entrypoint in the emulator's
 * web-standard sandbox as the platform does: the ES module's default export is called with the
 * request and a context whose `waitUntil` extends the request, and `process.env` holds only the
 * variables `envVarsInUse` lists. It prints `Edge function listening on <url>` once serving on
 * `HOST` (default 127.0.0.1) and `PORT` (default: a free one); SIGTERM stops it once the
 * requests' `waitUntil` work is done.
 * @module
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import process from "node:process";

const RUNNER_VARIABLES = new Set([
  "EDGE_RUNTIME_MODULES",
  "HOST",
  "PORT",
  "PATH",
  "HOME",
  "TMPDIR",
]);

const outputDir = process.argv[2];
if (!outputDir) throw new Error("usage: node edge_runtime_runner.mjs <.vercel/output folder>");
const modules = process.env.EDGE_RUNTIME_MODULES;
if (!modules) throw new Error("EDGE_RUNTIME_MODULES must name a folder holding edge-runtime");
const { EdgeRuntime, createHandler } = createRequire(`${modules}/`)("edge-runtime");

const config = JSON.parse(await readFile(`${outputDir}/config.json`, "utf8"));
if (config.version !== 3) throw new Error(`config.json: version ${config.version}, expected 3`);
const dest = config.routes?.find((route) => route.src === "/(.*)")?.dest;
if (!dest) throw new Error("config.json: no route sends every path to a function");
const functionDir = `${outputDir}/functions${dest}.func`;
const vc = JSON.parse(await readFile(`${functionDir}/.vc-config.json`, "utf8"));
if (vc.runtime !== "edge") throw new Error(`.vc-config.json: runtime ${vc.runtime}, expected edge`);
const code = await readFile(`${functionDir}/${vc.entrypoint}`, "utf8");

const env = {};
for (const [name, value] of Object.entries(process.env)) {
  if (RUNNER_VARIABLES.has(name)) continue;
  if (!vc.envVarsInUse || vc.envVarsInUse.includes(name)) env[name] = value;
}

const runtime = new EdgeRuntime({
  initialCode: asScript(code),
  extend: (context) => Object.assign(context, { process: { env } }),
});
// The emulator's own handler (what its `runServer` serves) on a server this runner controls:
// Node.js's 16 KB default header limit would answer 431 before the function could (Vercel's own
// limits, 16 KB a header and 32 KB in all, are in the README), and a test's pooled keep-alive
// connection must not hold up the exit.
const { handler, waitUntil } = createHandler({ runtime });
const server = createServer({ maxHeaderSize: 64 * 1024 }, handler);
await new Promise((resolve) => {
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", resolve);
});
const { address, port } = server.address();
console.log(`Edge function listening on http://${address}:${port}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    // As the platform does, let the requests' `waitUntil` work finish, then stop.
    await waitUntil();
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}

/**
 * The sandbox evaluates scripts, not modules: the bundle's one `export { handler as default }`
 * becomes a fetch listener calling the handler as Vercel calls an Edge Function's default
 * export. The bundle has no imports (the build checks that).
 */
function asScript(source) {
  const pattern = /export\s*\{\s*([\w$]+)\s+as\s+default\s*\};?\s*$/;
  const match = source.match(pattern);
  if (!match) throw new Error("the entrypoint has no `export { ... as default }` at its end");
  return source.replace(pattern, "") + `
addEventListener("fetch", (event) => {
  event.respondWith(${match[1]}(event.request, { waitUntil: (p) => event.waitUntil(p) }));
});
`;
}
