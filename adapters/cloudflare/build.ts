/**
 * Bundles the Worker into one ES module with `deno bundle`: `deno task build:worker` writes
 * `dist/worker.mjs`, which `wrangler deploy` and `denoflare push` upload as is.
 * @module
 */
import { bundleModule, denoOnlyCall, gzipSize, importsOf } from "../_shared/bundle.ts";

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
/** The Worker entry, relative to the project root. */
export const WORKER_ENTRY = "adapters/cloudflare/worker.ts";

/**
 * Runs `deno bundle --platform browser --format esm` on the Worker entry and checks the result is
 * one module that needs nothing Workers lack. The Worker's app gets no route manifest, so the
 * console's pages, islands and their packages stay out of it.
 * @param options Output file and minification.
 * @returns Where the bundle is and how big.
 * @throws {Error} When bundling fails, or the bundle imports a module or calls a Deno-only API.
 */
export async function buildWorker(options: BuildOptions = {}): Promise<BuildResult> {
  const outFile = options.outFile ?? new URL("dist/worker.mjs", ROOT).pathname;
  await bundleModule({
    entry: WORKER_ENTRY,
    outFile,
    platform: "browser",
    ...(options.minify === false ? { minify: false } : {}),
  });
  const bytes = await Deno.readFile(outFile);
  const text = new TextDecoder().decode(bytes);
  const imports = importsOf(text);
  if (imports.length) throw new Error(`The bundle still imports modules: ${imports.join(", ")}`);
  const denoOnly = denoOnlyCall(text);
  if (denoOnly) throw new Error(`The bundle calls a Deno-only API: ${denoOnly}`);
  return { outFile, bytes: bytes.byteLength, gzipBytes: await gzipSize(bytes) };
}

if (import.meta.main) {
  const result = await buildWorker();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`${result.outFile}: ${kb(result.bytes)} (${kb(result.gzipBytes)} gzipped)`);
}
