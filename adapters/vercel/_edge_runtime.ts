/**
 * Runs the built Vercel deployment (`.vercel/output/`, built once per test process with the code
 * of `deno task build:vercel`, into a temp folder) in Vercel's Edge Runtime emulator: the npm
 * package `edge-runtime` at the version deno.json pins, installed once per process into a temp
 * `node_modules` by `deno install`, driven by `edge_runtime_runner.mjs` in a `node` process.
 * @module
 */
import { type NodeProcess, startNodeProcess } from "../../tests/support/node_process.ts";
import { removeOnExit } from "../node/_node_server.ts";
import { buildVercel, type VercelBuildResult } from "./build.ts";

const ROOT = new URL("../../", import.meta.url);
const RUNNER = new URL("edge_runtime_runner.mjs", import.meta.url).pathname;

let built: Promise<VercelBuildResult> | null = null;
let installed: Promise<string> | null = null;

/** Builds `.vercel/output/` once per process into a temp folder. */
export function vercelBuild(): Promise<VercelBuildResult> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-vercel-" });
    removeOnExit(dir);
    return await buildVercel({ outDir: `${dir}/output` });
  })();
  return built;
}

/** Installs `edge-runtime` into a temp `node_modules` once per process; resolves to that folder. */
export function edgeRuntimeModules(): Promise<string> {
  installed ??= (async () => {
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
      imports: Record<string, string>;
    };
    const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-edge-runtime-" });
    removeOnExit(dir);
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: { "edge-runtime": config.imports["edge-runtime"] },
        nodeModulesDir: "auto",
      }),
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["install", "--quiet"],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`deno install edge-runtime failed:\n${new TextDecoder().decode(stderr)}`);
    }
    return `${dir}/node_modules`;
  })();
  return installed;
}

/**
 * Serves the built deployment in the emulator on a free loopback port.
 * @param env The function's environment (Vercel passes it those `envVarsInUse` lists).
 * @throws {Error} When the emulator exits or does not listen in time, with its output.
 */
export async function startEdgeFunction(env: Record<string, string>): Promise<NodeProcess> {
  const [{ outDir }, modules] = await Promise.all([vercelBuild(), edgeRuntimeModules()]);
  return startNodeProcess({
    args: [RUNNER, outDir],
    env: { EDGE_RUNTIME_MODULES: modules, HOST: "127.0.0.1", PORT: "0", ...env },
    listening: /Edge function listening on (http:\/\/\S+)/,
  });
}
