/**
 * Finds Gemini API keys in pasted text or an imported file (classic `AIza...` keys and newer
 * `AQ.` keys, in any surrounding format: lines, CSV, JSON, .env), de-duplicated, for a preview
 * that shows only masked forms.
 * @module
 */
import { KEY_SHAPE, maskSecret, sha256Hex } from "../../core/secrets.ts";

/** A key found in the input. */
export interface FoundKey {
  /** The key itself (kept in the browser only until it is sent to the server). */
  value: string;
  /** Masked form for the preview. */
  masked: string;
  /** Its format. */
  kind: "AIza" | "AQ.";
  /** The id the server will give it (to tell keys already in the pool). */
  id: string;
}

/** What {@linkcode findKeys} found. */
export interface FoundKeys {
  /** Distinct keys, in order of first appearance. */
  keys: FoundKey[];
  /** Repeats dropped. */
  repeats: number;
}

/**
 * Finds keys in text.
 * @param text Pasted text or a file's content.
 * @returns Distinct keys with masked forms and ids, and how many repeats were dropped.
 */
export async function findKeys(text: string): Promise<FoundKeys> {
  const seen = new Set<string>();
  const keys: FoundKey[] = [];
  let repeats = 0;
  for (const match of text.matchAll(new RegExp(KEY_SHAPE.source, "g"))) {
    const value = match[0];
    if (seen.has(value)) {
      repeats++;
      continue;
    }
    seen.add(value);
    keys.push({
      value,
      masked: maskSecret(value),
      kind: value.startsWith("AQ.") ? "AQ." : "AIza",
      id: await keyIdOf(value),
    });
  }
  return { keys, repeats };
}

/**
 * The id the store gives a key (`core/seed.ts` `keyId`), computed in the browser.
 * @param value The key.
 */
export async function keyIdOf(value: string): Promise<string> {
  return "k_" + (await sha256Hex(`key:${value}`)).slice(0, 16);
}
