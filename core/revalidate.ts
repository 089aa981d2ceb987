/**
 * Recovery of disabled keys: a cheap `models.list` call tells whether Google accepts a key again.
 * @module
 */
import type { Registry } from "./registry.ts";
import type { Store } from "./store/store.ts";

/** Outcome for one key. */
export interface ValidationResult {
  /** Key id. */
  keyId: string;
  /** Masked key. */
  masked: string;
  /** HTTP status upstream answered (0 when unreachable). */
  status: number;
  /** Whether upstream accepted the key. */
  valid: boolean;
  /** Whether this call re-enabled the key. */
  reenabled: boolean;
}

/** Options of {@linkcode validateKeys}. */
export interface ValidateOptions {
  /** Upstream base URL. */
  upstreamUrl: string;
  /** Cloudflare AI Gateway token, if any. */
  cfAigToken?: string | undefined;
  /** fetch for the upstream call. */
  fetch: typeof fetch;
  /** Re-enable disabled keys that pass (default true). */
  reenable?: boolean;
  /** Clock. */
  now: () => number;
}

/**
 * Checks keys against upstream with `GET /v1beta/models?pageSize=1` and re-enables disabled keys
 * that pass.
 * @param ids Key ids to check.
 * @param registry Source of the key values.
 * @param store Where re-enabling is written.
 * @param options Upstream and I/O.
 */
export async function validateKeys(
  ids: readonly string[],
  registry: Registry,
  store: Store,
  options: ValidateOptions,
): Promise<ValidationResult[]> {
  const results: ValidationResult[] = [];
  for (const id of ids) {
    const key = registry.keyById(id);
    if (!key) continue;
    let status = 0;
    try {
      const headers: Record<string, string> = { "x-goog-api-key": key.value };
      if (options.cfAigToken) headers["cf-aig-authorization"] = `Bearer ${options.cfAigToken}`;
      const response = await options.fetch(`${options.upstreamUrl}/v1beta/models?pageSize=1`, {
        headers,
        signal: AbortSignal.timeout(15_000),
      });
      status = response.status;
      await response.body?.cancel();
    } catch {
      status = 0;
    }
    const valid = status === 200;
    let reenabled = false;
    if (valid && !key.record.enabled && options.reenable !== false) {
      const updated = await store.setKeyEnabled(id, true, undefined, options.now());
      if (updated) {
        registry.patchKey(updated);
        reenabled = true;
      }
    }
    results.push({ keyId: id, masked: key.record.masked, status, valid, reenabled });
  }
  return results;
}
