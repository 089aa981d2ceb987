/**
 * What a request may cost in tokens, estimated before it is sent, so a daily token limit can
 * reserve it: the prompt's text at about four bytes a token, a fixed count per image, audio or
 * file part, plus the most output the request allows (`maxOutputTokens`, OpenAI's
 * `max_completion_tokens` or `max_tokens`), or {@linkcode DEFAULT_OUTPUT_TOKENS} when it names
 * none. The reservation is settled to the real usage when the response ends; the estimate only
 * bounds how far concurrent requests can pass the limit.
 * @module
 */

/** Output reserved for a request that sets no maximum. */
export const DEFAULT_OUTPUT_TOKENS = 1024;
/** Tokens counted for one image, audio or file part (Gemini counts an image as 258). */
export const MEDIA_PART_TOKENS = 258;
/** Largest output maximum believed; more is counted as this. */
const MAX_OUTPUT_TOKENS = 1_000_000;
/** JSON values walked at most; a larger body is estimated from its size. */
const MAX_NODES = 100_000;

/** Keys whose string values are prompt text (Gemini parts, OpenAI messages). */
const TEXT_KEYS = new Set(["text", "content"]);
/** Keys whose objects are media parts. */
const MEDIA_KEYS = new Set(["inlineData", "fileData", "image_url", "input_audio", "file"]);

/** The parts of a request body the estimate reads (the proxy's prepared body). */
export interface EstimatedBody {
  /** The parsed JSON, when the proxy parsed it. */
  json: unknown;
  /** The body as text, when buffered. */
  text: string | null;
  /** Its size in bytes. */
  bytes(): number;
}

/**
 * Estimates the tokens a request may use.
 * @param body The request body: its JSON when there is one, else its size.
 * @returns Whole tokens, at least 1.
 * @example
 * ```ts
 * const text = '{"contents":[{"parts":[{"text":"abc abc"}]}],"generationConfig":{"maxOutputTokens":10}}';
 * estimateTokens({ json: undefined, text, bytes: () => text.length }); // 2 + 10 = 12
 * ```
 */
export function estimateTokens(body: EstimatedBody): number {
  const json = body.json ?? parsed(body.text);
  const prompt = json !== null && typeof json === "object" ? promptTokens(json) : null;
  return Math.max(1, (prompt ?? Math.ceil(body.bytes() / 4)) + outputTokens(json));
}

/** A JSON text's value, or undefined when it is none. */
function parsed(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Prompt tokens of a JSON body, or null when it is too large to walk. */
function promptTokens(body: object): number | null {
  let textBytes = 0;
  let media = 0;
  const stack: unknown[] = [body];
  for (let nodes = 0; stack.length > 0; nodes++) {
    if (nodes > MAX_NODES) return null;
    const value = stack.pop();
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === "string") {
        if (TEXT_KEYS.has(key)) textBytes += utf8Length(item);
      } else if (MEDIA_KEYS.has(key) && item !== null && typeof item === "object") {
        media++;
      } else stack.push(item);
    }
  }
  return Math.ceil(textBytes / 4) + media * MEDIA_PART_TOKENS;
}

/** The output maximum the request sets, or the default. */
function outputTokens(body: unknown): number {
  const json = body as
    | {
      generationConfig?: { maxOutputTokens?: unknown };
      max_completion_tokens?: unknown;
      max_tokens?: unknown;
    }
    | null
    | undefined;
  const given = [
    json?.generationConfig?.maxOutputTokens,
    json?.max_completion_tokens,
    json?.max_tokens,
  ].find((v) => typeof v === "number" && Number.isFinite(v) && v >= 0);
  if (given === undefined) return DEFAULT_OUTPUT_TOKENS;
  return Math.min(MAX_OUTPUT_TOKENS, Math.ceil(given as number));
}

/** UTF-8 length of a string, without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
