/**
 * Serves the console's built assets (`static/build/`, written by `deno task build`) from disk,
 * keeping each file in memory after its first read. The Deno server reads them with Deno's file
 * API; the Node.js server hands {@linkcode createSiteAssets} its own reader.
 * @module
 */
import type { AssetFile, SiteAssets } from "../../core/web/types.ts";

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  map: "application/json",
};

/** Reads files of a build folder by name (`manifest.json`, `dashboard-1a2b3c4d.js`...). */
export interface AssetReader {
  /** A file's text. */
  text(file: string): Promise<string>;
  /** A file's bytes. */
  bytes(file: string): Promise<Uint8Array>;
}

/**
 * Loads the asset manifest of a build folder.
 * @param dir The build folder (default `static/build/` of this checkout).
 * @param basePath URL path the files are served under, e.g. `/admin/assets`.
 * @returns The assets, or null when nothing was built yet.
 */
export function loadSiteAssets(
  dir: URL = new URL("../../static/build/", import.meta.url),
  basePath = "/admin/assets",
): Promise<SiteAssets | null> {
  return createSiteAssets({
    text: (file) => Deno.readTextFile(new URL(file, dir)),
    bytes: (file) => Deno.readFile(new URL(file, dir)),
  }, basePath);
}

/**
 * Loads the asset manifest through a reader: only files the manifest lists are ever read.
 * @param read Reads the build folder's files.
 * @param basePath URL path the files are served under, e.g. `/admin/assets`.
 * @returns The assets, or null when there is no readable manifest.
 */
export async function createSiteAssets(
  read: AssetReader,
  basePath = "/admin/assets",
): Promise<SiteAssets | null> {
  let manifest: {
    islands: Record<string, string>;
    preload?: Record<string, string[]>;
    styles: string[];
    files: string[];
  };
  try {
    manifest = JSON.parse(await read.text("manifest.json"));
  } catch {
    return null;
  }
  const known = new Set(manifest.files);
  const cache = new Map<string, Promise<AssetFile | null>>();
  const islands: Record<string, string> = {};
  for (const [name, file] of Object.entries(manifest.islands)) {
    islands[name] = `${basePath}/${file}`;
  }
  const preload: Record<string, string[]> = {};
  for (const [name, files] of Object.entries(manifest.preload ?? {})) {
    preload[name] = files.map((file) => `${basePath}/${file}`);
  }
  return {
    islands,
    preload,
    styles: manifest.styles.map((file) => `${basePath}/${file}`),
    get(file) {
      if (!known.has(file)) return Promise.resolve(null);
      let found = cache.get(file);
      if (!found) {
        found = read.bytes(file).then(
          (body) => ({
            body,
            contentType: TYPES[file.slice(file.lastIndexOf(".") + 1)] ?? "application/octet-stream",
          }),
          () => null,
        );
        cache.set(file, found);
      }
      return found;
    },
  };
}
