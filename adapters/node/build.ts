/**
 * Builds the standalone Node.js server (`deno task build:node`) into `dist/node/`:
 *
 * - `server.mjs`: the server and the admin console in one ES module (`deno bundle --platform
 *   deno`, whose output runs on Node.js: `node:` imports stay imports, CommonJS packages get a
 *   `createRequire`), with every package inside except `@deno/kv`, which carries a native SQLite
 *   addon;
 * - `node_modules/@deno/kv*`: that package and its native addon for this machine's platform,
 *   copied from Deno's npm cache at the version deno.json pins;
 * - `static/`: the console's built browser assets (`deno task build`), read from disk next to
 *   the bundle;
 * - `package.json`: `"type": "module"` and the `@deno/kv` dependency, so `npm install` in the
 *   folder fetches the addon for another platform.
 *
 * The folder is self-contained: copy it anywhere with Node.js 20 or newer and run
 * `node server.mjs`.
 * @module
 */
import { buildConsole } from "../deno/build.ts";
import { gzipSize } from "../cloudflare/build.ts";

/** Options of {@linkcode buildNode}. */
export interface NodeBuildOptions {
  /** Output folder (default `dist/node/` in the project root); replaced whole. */
  outDir?: string;
  /**
   * Rebuild the console's assets first (default true). Tests pass false and copy the assets the
   * test run already built, so that nothing rewrites `static/build/` while other tests read it.
   */
  buildConsole?: boolean;
}

/** What a build produced. */
export interface NodeBuildResult {
  /** Absolute path of the output folder. */
  outDir: string;
  /** Size of `server.mjs` in bytes. */
  bytes: number;
  /** Its size gzipped. */
  gzipBytes: number;
  /** Bytes of the console's assets copied to `static/`. */
  assetBytes: number;
  /** Bytes of `node_modules/` (`@deno/kv` and its native addon). */
  nodeModulesBytes: number;
}

const ROOT = new URL("../../", import.meta.url);
/** The Node.js entry, relative to the project root. */
export const NODE_ENTRY = "adapters/node/main.ts";
/** The one package left outside the bundle. */
const EXTERNAL = "@deno/kv";
/** Deno APIs no code in the Node.js bundle may call. */
const DENO_ONLY =
  /\bDeno\.(serve|env|openKv|upgradeWebSocket|readFile|readTextFile|writeFile|writeTextFile|Command|listen|mkdir|makeTempDir|exit|errors)\b/;

/**
 * Builds `dist/node/`.
 * @param options Output folder and whether to rebuild the console.
 * @returns Where the build is and how big.
 * @throws {Error} When bundling fails, or the bundle imports anything but Node.js built-ins and
 *   `@deno/kv`, or calls a Deno-only API.
 */
export async function buildNode(options: NodeBuildOptions = {}): Promise<NodeBuildResult> {
  const outDir = options.outDir ?? new URL("dist/node", ROOT).pathname;
  if (options.buildConsole !== false) await buildConsole();
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const outFile = `${outDir}/server.mjs`;
  await deno(["cache", "--quiet", NODE_ENTRY]);
  await deno([
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--format",
    "esm",
    "--minify",
    "--external",
    EXTERNAL,
    "--output",
    outFile,
    NODE_ENTRY,
  ]);
  const bytes = await Deno.readFile(outFile);
  checkBundle(new TextDecoder().decode(bytes));
  const assetBytes = await copyTree(new URL("static/build/", ROOT).pathname, `${outDir}/static`);
  const version = await pinnedVersion(EXTERNAL);
  const nodeModulesBytes = await copyPackage(EXTERNAL, version, `${outDir}/node_modules`);
  await Deno.writeTextFile(
    `${outDir}/package.json`,
    JSON.stringify(
      {
        name: "gemini-proxy-node",
        private: true,
        type: "module",
        main: "server.mjs",
        scripts: { start: "node server.mjs" },
        engines: { node: ">=20" },
        dependencies: { [EXTERNAL]: version },
      },
      null,
      2,
    ) + "\n",
  );
  return {
    outDir,
    bytes: bytes.byteLength,
    gzipBytes: await gzipSize(bytes),
    assetBytes,
    nodeModulesBytes,
  };
}

/** The bundle may import Node.js built-ins and `@deno/kv`, and call no Deno API. */
function checkBundle(text: string): void {
  const imports = [
    ...text.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w*{][^;]*?from\s*)?["']([^"']+)["']/g),
  ]
    .map((m) => m[1]!)
    .filter((name) => !name.startsWith("node:") && name !== EXTERNAL);
  if (imports.length) throw new Error(`The bundle imports modules: ${imports.join(", ")}`);
  const denoOnly = text.match(DENO_ONLY);
  if (denoOnly) throw new Error(`The bundle calls a Deno-only API: ${denoOnly[0]}`);
}

/** The exact version deno.json pins for a package (`npm:name@1.2.3`). */
async function pinnedVersion(name: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports?: Record<string, string>;
  };
  const version = config.imports?.[name]?.match(/^npm:(?:@[^/@]+\/)?[^@]+@(\d+\.\d+\.\d+)$/)?.[1];
  if (!version) throw new Error(`deno.json must pin ${name} to an exact version`);
  return version;
}

/**
 * Copies a package and those of its optional dependencies Deno fetched (the native addon for
 * this platform) from Deno's npm cache into `node_modules`.
 * @returns Bytes copied.
 */
async function copyPackage(name: string, version: string, nodeModules: string): Promise<number> {
  const cache = await npmCacheDir();
  const source = await findInCache(cache, name, version);
  if (!source) throw new Error(`${name}@${version} is not in Deno's npm cache (${cache})`);
  let bytes = await copyTree(source, `${nodeModules}/${name}`);
  const manifest = JSON.parse(await Deno.readTextFile(`${source}/package.json`)) as {
    optionalDependencies?: Record<string, string>;
  };
  let addons = 0;
  for (const [dep, range] of Object.entries(manifest.optionalDependencies ?? {})) {
    const found = await findInCache(cache, dep, range);
    if (!found) continue;
    bytes += await copyTree(found, `${nodeModules}/${dep}`);
    addons++;
  }
  if (addons === 0) throw new Error(`No native addon of ${name} for this platform was fetched`);
  return bytes;
}

async function npmCacheDir(): Promise<string> {
  const { stdout } = await deno(["info", "--json"]);
  return (JSON.parse(stdout) as { npmCache: string }).npmCache;
}

/** The package's folder in Deno's npm cache, under whichever registry it came from. */
async function findInCache(cache: string, name: string, version: string): Promise<string | null> {
  for await (const registry of Deno.readDir(cache)) {
    if (!registry.isDirectory) continue;
    const dir = `${cache}/${registry.name}/${name}/${version}`;
    if (await Deno.stat(`${dir}/package.json`).then(() => true, () => false)) return dir;
  }
  return null;
}

/** Copies a folder's files recursively (symlinks skipped); returns the bytes copied. */
async function copyTree(from: string, to: string): Promise<number> {
  await Deno.mkdir(to, { recursive: true });
  let bytes = 0;
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) bytes += await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) {
      await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
      bytes += (await Deno.stat(`${to}/${entry.name}`)).size;
    }
  }
  return bytes;
}

async function deno(args: string[]): Promise<{ stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno ${args[0]} failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return { stdout: new TextDecoder().decode(stdout) };
}

if (import.meta.main) {
  const result = await buildNode();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `${result.outDir}/server.mjs: ${kb(result.bytes)} (${kb(result.gzipBytes)} gzipped); ` +
      `static/: ${kb(result.assetBytes)}; node_modules/: ${kb(result.nodeModulesBytes)}`,
  );
  console.log(`Run it with: node ${result.outDir}/server.mjs`);
}
