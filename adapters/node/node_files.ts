/**
 * Node.js file access for the parts shared with the Deno server: the generated `secret.key` and
 * the console's built assets.
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { SiteAssets } from "../../core/web/types.ts";
import type { SecretFiles } from "../deno/secret_key.ts";
import { createSiteAssets } from "../deno/static_assets.ts";

/** `secret.key` on Node.js: read when present, created readable by its owner only. */
export const nodeSecretFiles: SecretFiles = {
  async read(path) {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return null;
      throw error;
    }
  },
  async create(path, text) {
    await mkdir(dirname(path), { recursive: true });
    // "wx": fail if another process created it meanwhile, as Deno's `createNew` does.
    await writeFile(path, text, { mode: 0o600, flag: "wx" });
  },
};

/**
 * Loads the console's built assets from a folder (`static/` beside the bundle).
 * @param dir The folder holding `manifest.json` and the files it lists.
 * @returns The assets, or null when the folder has no manifest.
 */
export function loadNodeAssets(dir: URL): Promise<SiteAssets | null> {
  return createSiteAssets({
    text: (file) => readFile(new URL(file, dir), "utf8"),
    bytes: async (file) => new Uint8Array(await readFile(new URL(file, dir))),
  });
}
