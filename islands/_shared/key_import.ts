/**
 * Finds Gemini API keys in pasted text or an imported file (classic `AIza...` keys and newer
 * `AQ.` keys, in any surrounding format: lines, CSV, JSON, .env), de-duplicated, for a preview
 * that shows only masked forms.
 * @module
 */
import { KEY_SHAPE, maskSecret, sha256Hex } from "../../core/secrets/secrets.ts";

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

/** Why a line gave no key. */
export type IgnoredReason = "malformed" | "no_key";

/** What {@linkcode findKeys} found. */
export interface FoundKeys {
  /** Distinct keys, in order of first appearance. */
  keys: FoundKey[];
  /** Repeats dropped. */
  repeats: number;
  /**
   * Non-blank lines that gave no key, by line number (1-based): `malformed` when the line starts a
   * key (`AIza`, `AQ.`) that is too short or broken, `no_key` otherwise (headers, comments, names).
   * Line contents are never kept: a broken key is still a secret.
   */
  ignored: { line: number; reason: IgnoredReason }[];
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
  return { keys, repeats, ignored: ignoredLines(text) };
}

/** Non-blank lines without a key, and why. */
function ignoredLines(text: string): FoundKeys["ignored"] {
  const out: FoundKeys["ignored"] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (!line.trim() || new RegExp(KEY_SHAPE.source).test(line)) continue;
    out.push({ line: i + 1, reason: /AIza|AQ\./.test(line) ? "malformed" : "no_key" });
  }
  return out;
}

/**
 * The ignored lines in words, e.g. `3 lines ignored: 2 without a key (lines 1, 4), 1 with a
 * malformed key (line 7)`; empty when none.
 * @param ignored From {@linkcode findKeys}.
 */
export function ignoredSummary(ignored: FoundKeys["ignored"]): string {
  if (ignored.length === 0) return "";
  const part = (reason: IgnoredReason, words: string) => {
    const lines = ignored.filter((l) => l.reason === reason).map((l) => l.line);
    if (lines.length === 0) return null;
    const shown = lines.slice(0, 5).join(", ") + (lines.length > 5 ? ", ..." : "");
    return `${lines.length} ${words} (line${lines.length === 1 ? "" : "s"} ${shown})`;
  };
  const parts = [part("no_key", "without a key"), part("malformed", "with a malformed key")]
    .filter(Boolean);
  return `${ignored.length} line${ignored.length === 1 ? "" : "s"} ignored: ${parts.join(", ")}`;
}

/**
 * The id the store gives a key (`core/secrets/seed.ts` `keyId`), computed in the browser.
 * @param value The key.
 */
export async function keyIdOf(value: string): Promise<string> {
  return "k_" + (await sha256Hex(`key:${value}`)).slice(0, 16);
}
