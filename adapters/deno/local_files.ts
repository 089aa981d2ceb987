/**
 * Where the Deno entry keeps state on the machine it runs on, and what to do when it cannot.
 *
 * With `STORE=kv` and no hosted KV, the proxy writes the KV file (`KV_PATH`, by default under
 * `./data`) and, without `SECRET_KEY`, a generated secret beside it. A host whose working directory
 * is read-only (a container image, a serverless platform) refuses those writes; start-up then stops
 * with the variables that avoid them, rather than an operating system error about `./data`.
 * @module
 */
import type { Env } from "../../core/config/mod.ts";

/**
 * Runs a start-up step that writes local files, turning a refused write into a message naming
 * `SECRET_KEY` and `KV_PATH` and what to set them to.
 * @param step The step (creating the KV file's folder, generating the secret).
 * @param env The process environment (to say which of the two is missing).
 * @returns What the step returns.
 * @throws {Error} "Invalid configuration: ..." when the file system refused a write; any other
 *   error of the step as it was.
 */
export async function writingLocally<T>(step: () => Promise<T>, env: Env): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!refusedWrite(error)) throw error;
    throw new Error(readOnlyHostMessage(error, env), { cause: error });
  }
}

function refusedWrite(error: unknown): boolean {
  if (error instanceof Deno.errors.PermissionDenied) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}

function readOnlyHostMessage(error: unknown, env: Env): string {
  const reason = error instanceof Error ? error.message : String(error);
  let cwd = "the working directory";
  try {
    cwd = Deno.cwd();
  } catch {
    // Keep the generic wording.
  }
  const secretSet = Boolean(env.SECRET_KEY?.trim());
  const kvPath = env.KV_PATH?.trim();
  return [
    `Invalid configuration: the proxy cannot write its files here (${reason}; working directory ${cwd}).`,
    "On a host that cannot write its working directory, set both:",
    `  SECRET_KEY: ${secretSet ? "set" : "not set"}; 16+ random characters ` +
    "(e.g. `openssl rand -base64 32`) that encrypt Gemini keys at rest. Keep it: stored keys need it",
    `  KV_PATH: ${kvPath ? `"${kvPath}", in a folder that cannot be written` : "not set"}; ` +
    "a Deno KV file in a writable folder, e.g. a mounted volume " +
    "(/tmp/gemini-proxy.kv works, but state is lost with the machine)",
    "Or keep no local state: STORE=supabase (with SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY and " +
    "SECRET_KEY) or STORE=memory",
  ].join("\n");
}
