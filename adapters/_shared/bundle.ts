/**
 * Bundling helpers the hosts' builds share (`deno task build:worker`, `build:vercel`,
 * `build:node`): one `deno bundle` call, the checks that a bundle is one module that needs
 * nothing its platform lacks, and its gzipped size.
 * @module
 */

const ROOT = new URL("../../", import.meta.url);
/** Deno APIs the Deno host uses; none may reach a bundle for another platform. */
const DENO_ONLY_APIS = [
  "serve",
  "env",
  "openKv",
  "upgradeWebSocket",
  "readFile",
  "readTextFile",
  "writeFile",
  "writeTextFile",
  "Command",
  "listen",
  "mkdir",
  "makeTempDir",
  "exit",
];
/** An `import` statement of a bundle, capturing the module it names. */
const IMPORT = /(?:^|[;\n}])\s*import\s*(?:[\w*{][^;]*?from\s*)?["']([^"']+)["']/g;

/** What {@linkcode bundleModule} builds. */
export interface BundleOptions {
  /** The entry, relative to the project root. */
  entry: string;
  /** Output file (absolute path). */
  outFile: string;
  /** `browser` (Workers, Vercel's Edge runtime) or `deno` (whose output Node.js runs). */
  platform: "browser" | "deno";
  /** Minify (default true). */
  minify?: boolean;
  /** A package left as an import. */
  external?: string;
}

/**
 * Runs `deno bundle --format esm` on an entry of this project, with its deno.json imports.
 * @param options Entry, output, platform and minification.
 * @throws {Error} When bundling fails.
 */
export async function bundleModule(options: BundleOptions): Promise<void> {
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    options.platform,
    "--format",
    "esm",
    ...(options.minify === false ? [] : ["--minify"]),
    ...(options.external ? ["--external", options.external] : []),
    "--output",
    options.outFile,
    options.entry,
  ];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
}

/**
 * The modules a bundle still imports.
 * @param text The bundle.
 */
export function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1]!);
}

/**
 * The first call of a Deno-only API in a bundle, or null. Packages may feature-detect Deno
 * (`typeof Deno !== "undefined"`); what must never get in is code that needs Deno to run.
 * @param text The bundle.
 * @param also More `Deno.` members to look for (`errors` for Node.js).
 */
export function denoOnlyCall(text: string, also: string[] = []): string | null {
  const pattern = new RegExp(`\\bDeno\\.(${[...DENO_ONLY_APIS, ...also].join("|")})\\b`);
  return text.match(pattern)?.[0] ?? null;
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
