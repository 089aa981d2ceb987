/**
 * Finds the secret that encrypts keys at rest on Deno: `SECRET_KEY`, or locally a generated one
 * kept in a file beside the KV database (never in the store it protects).
 * @module
 */
import type { Config } from "../../core/config.ts";
import { randomSecret } from "../../core/secrets.ts";
import { onDenoDeploy } from "./local_files.ts";

/**
 * Returns the configured secret, or a generated one for local runs.
 * @param config Parsed configuration.
 * @param env Raw environment (to tell Deno Deploy apart).
 * @returns The secret and, when one was generated, where it was written.
 * @throws {Error} On Deno Deploy without `SECRET_KEY`.
 */
export async function resolveSecretKey(
  config: Config,
  env: Record<string, string | undefined>,
): Promise<{ secret: string; generatedAt?: string }> {
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
  try {
    const stored = (await Deno.readTextFile(file)).trim();
    if (stored.length >= 16) return { secret: stored };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir || ".", { recursive: true });
  const secret = randomSecret("", 32);
  await Deno.writeTextFile(file, secret + "\n", { mode: 0o600, createNew: true });
  return { secret, generatedAt: file };
}
