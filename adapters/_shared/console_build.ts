/**
 * Builds the admin console (`deno task build`):
 *
 * 1. writes the route manifest `routes/_manifest.gen.ts` from the files in `routes/` and
 *    `islands/`, so the app never lists directories at run time and bundles for any platform;
 * 2. bundles one entry per island with `deno bundle --platform browser --code-splitting --minify`
 *    (shared code such as Preact lands in common chunks) into `static/build/`, with content-hashed
 *    file names;
 * 3. copies `static/admin.css` to a content-hashed name;
 * 4. writes `static/build/manifest.json`, which the Deno adapter reads to serve the files.
 *
 * Pass `--if-missing` to skip the bundling when `static/build/manifest.json` already exists.
 * Islands are bundled with the automatic JSX runtime (`react-jsx`): the project's `precompile`
 * transform emits server-only templates that Preact cannot hydrate in the browser.
 * @module
 */

/** What a build produced. */
export interface BuildResult {
  /** Island name to its bundle's file name. */
  islands: Record<string, string>;
  /** Island name to the shared chunks its bundle imports, directly or not. */
  preload: Record<string, string[]>;
  /** Stylesheet file names. */
  styles: string[];
  /** Every built file with its size in bytes. */
  files: Record<string, number>;
  /** Whether `routes/_manifest.gen.ts` changed. */
  manifestChanged: boolean;
  /** Build time, ms. */
  ms: number;
}

/** Options of {@linkcode buildConsole}. */
export interface BuildOptions {
  /** Project root (default: two folders up from this file). */
  root?: URL;
  /** Print what was built (default false). */
  verbose?: boolean;
}

/** The file the Deno adapter reads; it lists every built file. */
export const ASSET_MANIFEST = "manifest.json";

const ROOT = new URL("../../", import.meta.url);
const SPECIAL_ROUTE_FILES = new Set(["_layout", "_middleware", "_404"]);

/**
 * Writes the route manifest, bundles the islands and hashes the assets.
 * @param options Root folder and verbosity.
 * @returns What was built.
 * @throws {Error} When `deno bundle` fails (its output is included).
 */
export async function buildConsole(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const root = options.root ?? ROOT;
  const manifestChanged = await writeRouteManifest(root);
  const islands = await listIslands(root);
  const work = await Deno.makeTempDir({ prefix: "gemini-proxy-build-" });
  try {
    const out = `${work}/out`;
    const entries: string[] = [];
    for (const name of islands) {
      const entry = `${work}/${name}.ts`;
      await Deno.writeTextFile(
        entry,
        `import { bootIsland } from "${new URL("core/web/client.ts", root).href}";\n` +
          `import Island from "${new URL(`islands/${name}.tsx`, root).href}";\n` +
          `bootIsland(${JSON.stringify(name)}, Island);\n`,
      );
      entries.push(entry);
    }
    const built: Record<string, Uint8Array> = {};
    const islandFiles: Record<string, string> = {};
    if (entries.length > 0) {
      await Deno.writeTextFile(`${work}/deno.json`, JSON.stringify(await bundleConfig(root)));
      const result = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          "--quiet",
          `--config=${work}/deno.json`,
          `--lock=${new URL("deno.lock", root).pathname}`,
          "--platform=browser",
          "--format=esm",
          "--minify",
          "--code-splitting",
          `--outdir=${out}`,
          ...entries,
        ],
        env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!result.success) {
        const text = new TextDecoder().decode(result.stderr) +
          new TextDecoder().decode(result.stdout);
        throw new Error(`deno bundle failed:\n${text}`);
      }
      for await (const file of Deno.readDir(out)) {
        if (!file.isFile) continue;
        const bytes = await Deno.readFile(`${out}/${file.name}`);
        const name = file.name.replace(/\.js$/, "");
        if (islands.includes(name)) {
          const hashed = `${name}-${await shortHash(bytes)}.js`;
          islandFiles[name] = hashed;
          built[hashed] = bytes;
        } else {
          built[file.name] = bytes;
        }
      }
    }
    const preload: Record<string, string[]> = {};
    for (const [name, file] of Object.entries(islandFiles)) {
      preload[name] = chunksOf(file, built);
    }
    const styles: string[] = [];
    const source = await Deno.readTextFile(new URL("static/admin.css", root)).catch(() => null);
    if (source !== null) {
      const css = new TextEncoder().encode(minifyCss(source));
      const name = `admin-${await shortHash(css)}.css`;
      built[name] = css;
      styles.push(name);
    }
    // Files are replaced atomically (write, then rename) and stale ones pruned last, so a server or
    // a concurrent build reading the folder never sees a half-written file.
    const buildDir = new URL("static/build/", root);
    await Deno.mkdir(buildDir, { recursive: true });
    const files: Record<string, number> = {};
    for (const [name, bytes] of Object.entries(built)) {
      await replaceFile(new URL(name, buildDir), bytes);
      files[name] = bytes.length;
    }
    const manifest = {
      islands: Object.fromEntries(Object.entries(islandFiles).sort()),
      preload: Object.fromEntries(Object.entries(preload).sort()),
      styles,
      files: Object.keys(files).sort(),
    };
    await replaceFile(
      new URL(ASSET_MANIFEST, buildDir),
      new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
    );
    for await (const entry of Deno.readDir(buildDir)) {
      if (
        entry.name !== ASSET_MANIFEST && !(entry.name in files) && !entry.name.includes(".tmp-")
      ) {
        await Deno.remove(new URL(entry.name, buildDir), { recursive: true }).catch(() => {});
      }
    }
    const result: BuildResult = {
      islands: islandFiles,
      preload,
      styles,
      files,
      manifestChanged,
      ms: Math.round(performance.now() - started),
    };
    if (options.verbose) printResult(result);
    return result;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * Writes `routes/_manifest.gen.ts` when its content would change.
 * @param root Project root.
 * @returns Whether the file was written.
 */
export async function writeRouteManifest(root: URL = ROOT): Promise<boolean> {
  const routes = await listRoutes(new URL("routes/", root));
  const islands = await listIslands(root);
  const lines = [
    "// DO NOT EDIT. Generated by `deno task build` (adapters/_shared/console_build.ts) from the files in",
    "// routes/ and islands/; `deno task dev` regenerates it on change.",
    "",
    'import type { Manifest } from "../core/web/types.ts";',
    ...routes.map((path, i) => `import * as $${i} from "./${path}";`),
    ...islands.map((name, i) => `import * as $$${i} from "../islands/${name}.tsx";`),
    "",
    "/** Every route and island module, so the app never reads the filesystem at run time. */",
    "export const manifest: Manifest = {",
    "  routes: {",
    ...routes.map((path, i) => `    "./routes/${path}": $${i},`),
    "  },",
    "  islands: {",
    ...islands.map((name, i) => `    "./islands/${name}.tsx": $$${i},`),
    "  },",
    "};",
    "",
  ];
  const text = lines.join("\n");
  const target = new URL("routes/_manifest.gen.ts", root);
  const current = await Deno.readTextFile(target).catch(() => null);
  if (current === text) return false;
  await Deno.writeTextFile(target, text);
  return true;
}

/** Route files relative to `routes/`, sorted; `_`-prefixed files and folders are skipped. */
async function listRoutes(dir: URL, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const base = entry.name.replace(/\.(tsx|ts)$/, "");
    if (entry.isDirectory) {
      if (entry.name.startsWith("_")) continue;
      out.push(...await listRoutes(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    } else if (/\.(tsx|ts)$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) {
      if (base.startsWith("_") && !SPECIAL_ROUTE_FILES.has(base)) continue;
      out.push(prefix + entry.name);
    }
  }
  return out.sort();
}

/** Island names: `.tsx` files directly in `islands/`, not `_`-prefixed, sorted. */
async function listIslands(root: URL): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(new URL("islands/", root))) {
    if (entry.isFile && /^[a-z0-9][a-z0-9_]*\.tsx$/.test(entry.name)) {
      out.push(entry.name.slice(0, -4));
    }
  }
  return out.sort();
}

/** The project's config with the automatic JSX runtime, for the browser bundle. */
async function bundleConfig(root: URL): Promise<Record<string, unknown>> {
  const project = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  return {
    imports: project.imports,
    compilerOptions: { ...project.compilerOptions, jsx: "react-jsx" },
  };
}

async function replaceFile(target: URL, bytes: Uint8Array): Promise<void> {
  const temporary = new URL(`${target.href}.tmp-${crypto.randomUUID().slice(0, 8)}`);
  await Deno.writeFile(temporary, bytes);
  await Deno.rename(temporary, target);
}

/** Drops comments and needless whitespace (no value or selector changes). */
function minifyCss(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\s+/g, " ")
    .replace(/\s*([{};])\s*/g, "$1").replace(/;}/g, "}").trim();
}

/** The chunks a bundle imports statically, and theirs, in a stable order. */
function chunksOf(file: string, built: Record<string, Uint8Array>): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    const text = new TextDecoder().decode(built[name] ?? new Uint8Array());
    for (const match of text.matchAll(/(?:from|import)\s*"\.\/(chunk-[\w-]+\.js)"/g)) {
      const chunk = match[1]!;
      if (seen.has(chunk)) continue;
      seen.add(chunk);
      visit(chunk);
    }
  };
  visit(file);
  return [...seen].sort();
}

async function shortHash(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 5), (b) => b.toString(16).padStart(2, "0")).join("");
}

function printResult(result: BuildResult): void {
  const rows = Object.entries(result.files).sort(([a], [b]) => a.localeCompare(b));
  for (const [name, size] of rows) {
    console.log(`  static/build/${name.padEnd(32)} ${(size / 1024).toFixed(1).padStart(6)} KB`);
  }
  console.log(`Built the admin console in ${result.ms} ms`);
}

if (import.meta.main) {
  const ifMissing = Deno.args.includes("--if-missing");
  const exists = await Deno.stat(new URL(`static/build/${ASSET_MANIFEST}`, ROOT)).then(
    () => true,
    () => false,
  );
  if (ifMissing && exists) {
    await writeRouteManifest();
  } else {
    await buildConsole({ verbose: true });
  }
}
