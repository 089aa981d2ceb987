/**
 * Serves the console's built assets (`static/build/`, written by `deno task build`) from disk
 * with Deno's file API; `core/web/site_assets.ts` keeps each file in memory after its first read.
 * @module
 */
import { createSiteAssets, type SiteAssets } from "../../core/web/mod.ts";

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
