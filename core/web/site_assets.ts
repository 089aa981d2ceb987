/**
 * The console's built assets (`static/build/`, written by `deno task build`) as the app serves
 * them: the manifest's islands, preloads and styles, and each listed file read once through the
 * host's reader and kept in memory.
 * @module
 */
import type { AssetFile, SiteAssets } from "./types.ts";

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
