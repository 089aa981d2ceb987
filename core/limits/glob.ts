/**
 * Model allow-lists of proxy tokens: glob patterns where `*` matches any run of characters and
 * `?` one character, such as `gemini-2.5-*` or `*`.
 * @module
 */

/** Characters a pattern may use: model-name characters plus the two wildcards. */
export const PATTERN_SHAPE = /^[A-Za-z0-9._\-/*?]+$/;

const compiled = new Map<string, RegExp>();

/**
 * Compiles a glob pattern into an anchored regular expression (cached).
 * @param pattern e.g. `gemini-2.5-*`.
 * @returns A RegExp matching whole model ids.
 * @example
 * ```ts
 * globToRegExp("gemini-2.5-*").test("gemini-2.5-flash"); // true
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let regexp = compiled.get(pattern);
  if (regexp) return regexp;
  const body = pattern.replace(/[.+^${}()|[\]\\/-]/g, "\\$&").replaceAll("*", ".*").replaceAll(
    "?",
    ".",
  );
  regexp = new RegExp(`^${body}$`);
  if (compiled.size > 1000) compiled.clear();
  compiled.set(pattern, regexp);
  return regexp;
}

/**
 * Whether a model id matches any pattern of an allow-list. A `models/` prefix on the id is
 * ignored, so `models/gemini-2.5-flash` and `gemini-2.5-flash` are the same model.
 * @param patterns The allow-list.
 * @param model Model id.
 * @returns true when some pattern matches.
 */
export function modelAllowed(patterns: readonly string[], model: string): boolean {
  const id = model.replace(/^models\//, "");
  return patterns.some((pattern) => globToRegExp(pattern.replace(/^models\//, "")).test(id));
}

/**
 * Whether an allow-list admits every model (it contains a lone `*`).
 * @param patterns The allow-list.
 */
export function allowsEveryModel(patterns: readonly string[]): boolean {
  return patterns.some((pattern) => /^\**$/.test(pattern) && pattern !== "");
}
