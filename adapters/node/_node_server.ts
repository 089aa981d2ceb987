/**
 * Runs the built Node.js server (`dist/node/server.mjs`, built once per test process with the code
 * of `deno task build:node`, into a temp folder) in a `node` child process.
 * @module
 */
import { type NodeProcess, startNodeProcess } from "../../tests/support/node_process.ts";
import { buildNode, type NodeBuildResult } from "./build.ts";

let built: Promise<NodeBuildResult> | null = null;

/** Builds `dist/node/` once per process into a temp folder; resolves to the build. */
export function nodeBuild(): Promise<NodeBuildResult> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-node-" });
    removeOnExit(dir);
    return await buildNode({ outDir: `${dir}/node`, buildConsole: false });
  })();
  return built;
}

/**
 * Starts `node server.mjs` from the built folder with an environment of its own, listening on a
 * free loopback port.
 * @param env The server's environment (`HOST` and `PORT` default to 127.0.0.1 and 0).
 * @throws {Error} When it exits or does not listen in time, with its output.
 */
export async function startNodeServerProcess(env: Record<string, string>): Promise<NodeProcess> {
  const { outDir } = await nodeBuild();
  return startNodeProcess({
    args: [`${outDir}/server.mjs`],
    env: { HOST: "127.0.0.1", PORT: "0", ...env },
    listening: /Gemini Proxy listening on (http:\/\/\S+)/,
  });
}

/** Removes a temp folder when the test process ends (about 5 MB per build). */
export function removeOnExit(dir: string): void {
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone.
    }
  });
}
