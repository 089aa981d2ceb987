/**
 * Picks the Gemini key for a request from the in-memory snapshot.
 * @module
 */
import type { ActiveKey, Registry } from "./registry.ts";

/** Chooses a key for a model; null when none can serve it. */
export type KeyPicker = (model: string | null) => ActiveKey | null;

/**
 * Round robin over enabled keys.
 * @param registry The snapshot to pick from.
 * @returns A picker that walks the enabled keys in order.
 */
export function createRoundRobin(registry: Registry): KeyPicker {
  let next = 0;
  return function pickRoundRobin() {
    const keys = registry.enabledKeys;
    if (keys.length === 0) return null;
    const key = keys[next % keys.length] ?? null;
    next = (next + 1) % keys.length;
    return key;
  };
}
