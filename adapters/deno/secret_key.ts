/**
 * Finds the secret that encrypts keys at rest: `SECRET_KEY`, or locally a generated one kept in a
 * file beside the KV database (never in the store it protects). The rule is shared by the Deno
 * and Node.js servers; each hands in its own file access.
 * @module
 */
import type { Config } from "../../core/config.ts";
import { randomSecret } from "../../core/secrets.ts";
import { onDenoDeploy } from "./local_files.ts";

/** The file access {@linkcode findSecretKey} needs. */
export interface SecretFiles {
  /** The file's text, or null when it does not exist. */
  read(path: string): Promise<string | null>;
  /** Creates the file (and its folder) readable by its owner only; fails if it exists. */
  create(path: string, text: string): Promise<void>;
}

/** The secret in use and, when one was generated, the file it was written to. */
export interface FoundSecret {
  /** The secret. */
  secret: string;
  /** Where a generated secret was written. */
  generatedAt?: string;
}

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

/**
 * The rule behind {@linkcode resolveSecretKey}, on any platform's files: `SECRET_KEY` when set;
 * required on Deno Deploy; a throwaway one for the memory store; otherwise `secret.key` beside
 * the KV file, generated once.
 * @param config Parsed configuration.
 * @param env Raw environment (to tell Deno Deploy apart).
 * @param files The platform's file access.
 * @returns The secret and, when one was generated, where it was written.
 * @throws {Error} On Deno Deploy without `SECRET_KEY`.
 */
export async function findSecretKey(
  config: Config,
  env: Record<string, string | undefined>,
  files: SecretFiles,
): Promise<FoundSecret> {
  if (config.secretKey) return { secret: config.secretKey };
  if (onDenoDeploy(env)) {
    throw new Error(
      "Invalid configuration:\n  SECRET_KEY: required on Deno Deploy (at least 16 characters; " +
        'deno deploy env add SECRET_KEY "$(openssl rand -base64 32)" --secret)',
    );
  }
  if (config.store === "memory") return { secret: randomSecret("", 32) };
  const dir = config.kvPath.includes("/")
    ? config.kvPath.slice(0, config.kvPath.lastIndexOf("/"))
    : ".";
  const file = `${dir || "."}/secret.key`;
  const stored = (await files.read(file))?.trim();
  if (stored && stored.length >= 16) return { secret: stored };
  const secret = randomSecret("", 32);
  await files.create(file, secret + "\n");
  return { secret, generatedAt: file };
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
