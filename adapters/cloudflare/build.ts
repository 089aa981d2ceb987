/**
 * Bundles the Worker into one ES module with `deno bundle`: `deno task build:worker` writes
 * `dist/worker.mjs`, which `wrangler deploy` and `denoflare push` upload as is.
 * @module
 */

/** Options of {@linkcode buildWorker}. */
export interface BuildOptions {
  /** Output file (default `dist/worker.mjs` in the project root). */
  outFile?: string;
  /** Minify (default true). */
  minify?: boolean;
}

/** What a build produced. */
export interface BuildResult {
  /** Absolute path of the bundle. */
  outFile: string;
  /** Size in bytes. */
  bytes: number;
  /** Size gzipped, in bytes. */
  gzipBytes: number;
}

const ROOT = new URL("../../", import.meta.url);
/** Deno APIs the Deno adapter uses; none may reach the Worker. */
const DENO_ONLY =
  /\bDeno\.(serve|env|openKv|upgradeWebSocket|readFile|readTextFile|writeFile|writeTextFile|Command|listen|mkdir|makeTempDir|exit)\b/;
/** The Worker entry, relative to the project root. */
export const WORKER_ENTRY = "adapters/cloudflare/worker.ts";

/**
 * Runs `deno bundle --platform browser --format esm` on the Worker entry and checks the result is
 * one module that needs nothing Workers lack.
 * @param options Output file and minification.
 * @returns Where the bundle is and how big.
 * @throws {Error} When bundling fails, or the bundle imports a module or calls a Deno-only API.
 */
export async function buildWorker(options: BuildOptions = {}): Promise<BuildResult> {
  const outFile = options.outFile ?? new URL("dist/worker.mjs", ROOT).pathname;
  const importMap = await Deno.makeTempFile({ prefix: "worker-import-map-", suffix: ".json" });
  await Deno.writeTextFile(importMap, JSON.stringify(await workerImportMap()));
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    ...(options.minify === false ? [] : ["--minify"]),
    "--import-map",
    importMap,
    "--output",
    outFile,
    WORKER_ENTRY,
  ];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
  }).output().finally(() => Deno.remove(importMap));
  if (code !== 0) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
  }
  const bytes = await Deno.readFile(outFile);
  const text = new TextDecoder().decode(bytes);
  const imports = text.match(/(?:^|[;\n}])\s*import\s*(?:[\w*{][^;]*?from\s*)?["'][^"']+["']/g);
  if (imports) throw new Error(`The bundle still imports modules: ${imports.join(", ")}`);
  // Packages may feature-detect Deno (`typeof Deno !== "undefined"`); what must never get in is
  // code that needs Deno to run: the Deno adapter's APIs.
  const denoOnly = text.match(DENO_ONLY);
  if (denoOnly) throw new Error(`The bundle calls a Deno-only API: ${denoOnly[0]}`);
  return { outFile, bytes: bytes.byteLength, gzipBytes: await gzipSize(bytes) };
}

/**
 * The project's import map (deno.json `imports`) plus one substitution: the admin console's route
 * manifest becomes an empty one, so its pages, islands and their packages stay out of the Worker.
 */
export async function workerImportMap(): Promise<{ imports: Record<string, string> }> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports?: Record<string, string>;
  };
  return {
    imports: {
      ...config.imports,
      [new URL("routes/_manifest.gen.ts", ROOT).href]: new URL(
        "adapters/cloudflare/no_console_manifest.ts",
        ROOT,
      ).href,
    },
  };
}

/**
 * Gzipped size of some bytes (level as `CompressionStream` does it, close to what Cloudflare
 * reports on upload).
 * @param bytes The bytes.
 */
export async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

if (import.meta.main) {
  const result = await buildWorker();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`${result.outFile}: ${kb(result.bytes)} (${kb(result.gzipBytes)} gzipped)`);
}
