/**
 * The Deno server's secret key: the rule of `core/config/secret_key.ts` on Deno's file API.
 * @module
 */
import {
  type Config,
  findSecretKey,
  type FoundSecret,
  type SecretFiles,
} from "../../core/config/mod.ts";

/**
 * Returns the configured secret, or a generated one for local runs.
 * @param config Parsed configuration.
 * @param env Raw environment (to tell Deno Deploy apart).
 * @returns The secret and, when one was generated, where it was written.
 * @throws {Error} On Deno Deploy without `SECRET_KEY`.
 */
export function resolveSecretKey(
  config: Config,
  env: Record<string, string | undefined>,
): Promise<FoundSecret> {
  return findSecretKey(config, env, denoFiles);
}

const denoFiles: SecretFiles = {
  async read(path) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  },
  async create(path, text) {
    const dir = path.slice(0, path.lastIndexOf("/")) || ".";
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(path, text, { mode: 0o600, createNew: true });
  },
};
