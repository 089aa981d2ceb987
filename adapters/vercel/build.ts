/**
 * Builds the Vercel deployment (`deno task build:vercel`) in Vercel's Build Output API v3 format,
 * which `vercel deploy --prebuilt` uploads as is:
 *
 * ```
 * .vercel/output/config.json                      {"version":3,"routes":[every path -> /proxy]}
 * .vercel/output/functions/proxy.func/.vc-config.json   {"runtime":"edge","entrypoint":"index.js",...}
 * .vercel/output/functions/proxy.func/index.js    the Edge Function, one ES module
 * ```
 *
 * The function is bundled like the Cloudflare Worker (`deno bundle --platform browser`, the
 * console's pages left out), and its `.vc-config.json` lists the environment variables it reads
 * (`envVarsInUse`): Vercel hands an Edge Function only those.
 * @module
 */
import { CONFIG_VARIABLES } from "../../core/config.ts";
import { gzipSize, workerImportMap } from "../cloudflare/build.ts";

/** Options of {@linkcode buildVercel}. */
export interface VercelBuildOptions {
  /** Output folder (default `.vercel/output` in the project root); replaced whole. */
  outDir?: string;
  /** Vercel regions to run the function in, e.g. `["iad1"]` (default: near each user). */
  regions?: string[];
}

/** What a build produced. */
export interface VercelBuildResult {
  /** Absolute path of the output folder. */
  outDir: string;
  /** The function's folder, `functions/proxy.func`. */
  functionDir: string;
  /** Size of `index.js` in bytes. */
  bytes: number;
  /** Its size gzipped (Vercel's Edge Function limits are on this size). */
  gzipBytes: number;
}

const ROOT = new URL("../../", import.meta.url);
/** The Edge Function entry, relative to the project root. */
export const VERCEL_ENTRY = "adapters/vercel/edge_function.ts";
/** The function's name: `/proxy` in routes, `proxy.func` on disk. */
export const FUNCTION_NAME = "proxy";
/** Variables the function reads besides the configuration's. */
const PLATFORM_VARIABLES = ["VERCEL_REGION"];
/** Deno APIs that must never reach the Edge runtime. */
const DENO_ONLY =
  /\bDeno\.(serve|env|openKv|upgradeWebSocket|readFile|readTextFile|writeFile|writeTextFile|Command|listen|mkdir|makeTempDir|exit)\b/;

/**
 * Writes `.vercel/output/`.
 * @param options Output folder and regions.
 * @returns Where the function is and how big.
 * @throws {Error} When bundling fails, or the bundle imports a module or calls a Deno-only API.
 */
export async function buildVercel(options: VercelBuildOptions = {}): Promise<VercelBuildResult> {
  const outDir = options.outDir ?? new URL(".vercel/output", ROOT).pathname;
  const functionDir = `${outDir}/functions/${FUNCTION_NAME}.func`;
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(functionDir, { recursive: true });
  const outFile = `${functionDir}/index.js`;
  await bundle(outFile);
  const bytes = await Deno.readFile(outFile);
  checkBundle(new TextDecoder().decode(bytes));
  const vcConfig = {
    runtime: "edge",
    entrypoint: "index.js",
    envVarsInUse: [...CONFIG_VARIABLES, ...PLATFORM_VARIABLES],
    ...(options.regions?.length ? { regions: options.regions } : {}),
  };
  await writeJson(`${functionDir}/.vc-config.json`, vcConfig);
  await writeJson(`${outDir}/config.json`, {
    version: 3,
    routes: [{ src: "/(.*)", dest: `/${FUNCTION_NAME}` }],
  });
  return { outDir, functionDir, bytes: bytes.byteLength, gzipBytes: await gzipSize(bytes) };
}

async function bundle(outFile: string): Promise<void> {
  const importMap = await Deno.makeTempFile({ prefix: "vercel-import-map-", suffix: ".json" });
  await Deno.writeTextFile(importMap, JSON.stringify(await workerImportMap()));
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      "--import-map",
      importMap,
      "--output",
      outFile,
      VERCEL_ENTRY,
    ],
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
  }).output().finally(() => Deno.remove(importMap));
  if (code !== 0) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
}

/** One module: no imports left, no Deno-only call, a default export for Vercel to call. */
function checkBundle(text: string): void {
  const imports = text.match(/(?:^|[;\n}])\s*import\s*(?:[\w*{][^;]*?from\s*)?["'][^"']+["']/g);
  if (imports) throw new Error(`The bundle still imports modules: ${imports.join(", ")}`);
  const denoOnly = text.match(DENO_ONLY);
  if (denoOnly) throw new Error(`The bundle calls a Deno-only API: ${denoOnly[0]}`);
  if (!/export\s*\{[^}]*\bas default\b[^}]*\}/.test(text)) {
    throw new Error("The bundle has no default export for Vercel to call");
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

if (import.meta.main) {
  const regions = Deno.args.find((a) => a.startsWith("--regions="))?.slice(10).split(",")
    .filter(Boolean);
  const result = await buildVercel(regions?.length ? { regions } : {});
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `${result.functionDir}/index.js: ${kb(result.bytes)} (${kb(result.gzipBytes)} gzipped)`,
  );
  console.log("Deploy it with: npx vercel deploy --prebuilt");
}
