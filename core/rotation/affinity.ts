/**
 * Resource affinity: files, upload sessions, cached contents, batches, tuned models and
 * long-running operations live in the Google Cloud project of the key that created them, so later
 * requests naming them must use that key.
 * @module
 */
import type { Store } from "../store/mod.ts";

/** How long a resource stays pinned when upstream gives no lifetime (files live 48 h). */
export const DEFAULT_AFFINITY_TTL_MS = 8 * 24 * 3600_000;
const CACHE_LIMIT = 10_000;

/** Remembers and finds resource owners, memory first, store second. */
export interface Affinity {
  /** Pins a resource to a key (memory at once, store before the promise resolves). */
  remember(resource: string, keyId: string, ttlMs?: number): Promise<void>;
  /** The owning key id, or null when unknown. */
  lookup(resource: string): Promise<string | null>;
}

/**
 * Creates the affinity table.
 * @param store Where pins are shared between processes.
 * @param now Clock (epoch ms).
 */
export function createAffinity(store: Store, now: () => number): Affinity {
  const cache = new Map<string, { keyId: string; until: number }>();
  function keep(resource: string, keyId: string, until: number): void {
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(resource, { keyId, until });
  }
  return {
    async remember(resource, keyId, ttlMs = DEFAULT_AFFINITY_TTL_MS) {
      keep(resource, keyId, now() + ttlMs);
      await store.putAffinity(resource, keyId, ttlMs);
    },
    async lookup(resource) {
      const hit = cache.get(resource);
      if (hit && hit.until > now()) return hit.keyId;
      const keyId = await store.getAffinity(resource);
      if (keyId) keep(resource, keyId, now() + 60_000);
      return keyId;
    },
  };
}

/**
 * Resource names a request body refers to: `cachedContent` and `fileData.fileUri` anywhere in it.
 * @param text The request body as text (JSON).
 * @returns Names such as `files/abc` and `cachedContents/xyz`.
 */
export function resourcesInBody(text: string): string[] {
  if (!text.includes("fileUri") && !text.includes("cachedContent")) return [];
  const found = new Set<string>();
  for (const match of text.matchAll(/"fileUri"\s*:\s*"[^"]*?\/(files\/[A-Za-z0-9_-]+)"/g)) {
    found.add(match[1]!);
  }
  for (const match of text.matchAll(/"fileUri"\s*:\s*"(files\/[A-Za-z0-9_-]+)"/g)) {
    found.add(match[1]!);
  }
  for (const match of text.matchAll(/"cachedContent"\s*:\s*"(cachedContents\/[A-Za-z0-9_-]+)"/g)) {
    found.add(match[1]!);
  }
  return [...found];
}

/**
 * Names of resources a successful response created, to pin to the key that created them.
 * @param body Parsed response JSON.
 * @returns e.g. `["files/abc"]`, `["batches/b1"]`, `["tunedModels/t", "tunedModels/t/operations/o"]`.
 */
export function createdResources(body: unknown): string[] {
  if (!body || typeof body !== "object") return [];
  const record = body as { name?: unknown; file?: { name?: unknown } };
  const name = typeof record.file?.name === "string" ? record.file.name : record.name;
  if (typeof name !== "string") return [];
  const out = [name];
  const tuned = name.match(/^(tunedModels\/[^/]+)\/operations\//);
  if (tuned) out.push(tuned[1]!);
  return out.filter((n) => /^(files|cachedContents|batches|tunedModels|models|corpora)\//.test(n));
}
