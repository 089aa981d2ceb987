/**
 * Reads token usage from responses as they stream past, without holding or delaying a chunk.
 *
 * Gemini repeats `usageMetadata` with cumulative counts in every streamed chunk, and the OpenAI
 * layer sends `usage` once near the end (on the last content chunk, or in a chunk of its own after
 * chunks carrying `"usage": null`, which are looked past), so the last object seen is the final
 * count. Only the
 * bytes from the latest usage marker onwards are kept, so memory stays small whatever the length
 * of the stream.
 * @module
 */

/** Token counts of one response. */
export interface Usage {
  /** Prompt tokens (including cached ones). */
  prompt: number;
  /** Output tokens. */
  candidates: number;
  /** Thinking tokens. */
  thoughts: number;
  /** Tokens read from a cached content. */
  cached: number;
  /** Tokens of tool-use prompts. */
  toolUse: number;
  /** Total as upstream reports it. */
  total: number;
  /** Audio tokens of the prompt (cached ones included), when upstream breaks the prompt down. */
  audio?: number;
  /** Audio tokens among the cached ones, when upstream breaks the cache down. */
  cachedAudio?: number;
}

/** What the tap saw when the body ended. */
export interface TapResult {
  /** Final usage, when the response carried any. */
  usage: Usage | null;
  /** Last finish reason seen (`STOP`, `MAX_TOKENS`, `stop`...). */
  finishReason: string | null;
  /** Bytes relayed. */
  bytes: number;
  /** An error object appeared in the body after the status line said success. */
  midStreamError: boolean;
  /** The body ended because the client went away or the upstream broke. */
  aborted: boolean;
  /** The first characters of the body, when capture was asked for. */
  captured: string | null;
}

/** Options of {@linkcode usageTap}. */
export interface TapOptions {
  /** Look for usage in the bytes (JSON and SSE bodies); false only counts bytes. Default true. */
  scan?: boolean;
  /** Keep the first this many characters of the body (for body logging). Default 0. */
  capture?: number;
}

const MARKERS = { native: '"usageMetadata"', openai: '"usage"' } as const;
const FINISH = {
  native: /"finishReason"\s*:\s*"([A-Z_]+)"/g,
  openai: /"finish_reason"\s*:\s*"([a-z_]+)"/g,
} as const;
const FINISH_KEYS = { native: '"finishReason"', openai: '"finish_reason"' } as const;
/** {@linkcode FINISH}, matched only where a key starts. */
const FINISH_AT = {
  native: new RegExp(FINISH.native.source, "y"),
  openai: new RegExp(FINISH.openai.source, "y"),
} as const;
const ERROR = /"error"\s*:\s*\{\s*"code"\s*:/;
const KEEP = 64;
const MAX_PENDING = 256 * 1024;

/**
 * A pass-through stream that reports usage when the body ends.
 * @param flavour `native` (usageMetadata) or `openai` (usage).
 * @param onDone Called once, when the body ends, errors or is cancelled.
 * @param options Whether to scan, and how much of the body to capture.
 * @returns A TransformStream to pipe the response body through.
 */
export function usageTap(
  flavour: "native" | "openai",
  onDone: (result: TapResult) => void,
  options: TapOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const tap = createUsageReader(flavour, onDone, options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      tap.read(chunk);
    },
    flush() {
      tap.end();
    },
    cancel() {
      tap.report(true);
    },
  });
}

/** Reads usage from the chunks of one body as they pass, for a relay that moves them itself. */
export interface UsageReader {
  /** Counts a chunk that has just been passed on, and reads it. */
  read(chunk: Uint8Array): void;
  /** The body ended whole: reports what was read. */
  end(): void;
  /** The body ended early (client gone, upstream broken): reports what was read, once. */
  report(aborted: boolean): void;
}

/**
 * A usage reader without a stream of its own: the relay that moves the chunks hands each one
 * over, so reading usage adds no stream layer, promise or copy per chunk.
 * @param flavour `native` (usageMetadata) or `openai` (usage).
 * @param onDone Called once, when the body ends, errors or is cancelled.
 * @param options Whether to scan, and how much of the body to capture.
 * @returns The reader.
 */
export function createUsageReader(
  flavour: "native" | "openai",
  onDone: (result: TapResult) => void,
  options: TapOptions = {},
): UsageReader {
  return new Tap(flavour, { onDone, options });
}

/** What one tapped body has shown so far. */
class Tap implements UsageReader {
  #flavour: "native" | "openai";
  #onDone: (result: TapResult) => void;
  #scanning: boolean;
  #capture: number;
  #captured = "";
  #decoder = new TextDecoder();
  #pending = "";
  /** The latest complete usage object's text: parsed once, when the body ends. */
  #usageText: string | null = null;
  #finishReason: string | null = null;
  #bytes = 0;
  #midStreamError = false;
  #reported = false;

  constructor(
    flavour: "native" | "openai",
    done: { onDone: (result: TapResult) => void; options: TapOptions },
  ) {
    this.#flavour = flavour;
    this.#onDone = done.onDone;
    this.#scanning = done.options.scan ?? true;
    this.#capture = done.options.capture ?? 0;
  }

  /** Counts a chunk that passed and reads it. */
  read(chunk: Uint8Array): void {
    this.#bytes += chunk.byteLength;
    if (!this.#scanning) return;
    const text = this.#decoder.decode(chunk, { stream: true });
    if (this.#captured.length < this.#capture) {
      this.#captured += text.slice(0, this.#capture - this.#captured.length);
    }
    this.#scan(text);
  }

  /** The body ended whole. */
  end(): void {
    if (this.#scanning) this.#scan(this.#decoder.decode());
    this.report(false);
  }

  /** Tells what was read, once. */
  report(aborted: boolean): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#onDone({
      usage: this.#usageText === null ? null : parseUsage(this.#usageText, this.#flavour),
      finishReason: this.#finishReason,
      bytes: this.#bytes,
      midStreamError: this.#midStreamError,
      aborted,
      captured: this.#capture > 0 ? this.#captured : null,
    });
  }

  #scan(text: string): void {
    const recent = this.#pending.slice(-KEEP) + text;
    // The patterns run only where their key is: most chunks carry neither.
    if (recent.includes(FINISH_KEYS[this.#flavour])) {
      for (const match of recent.matchAll(FINISH[this.#flavour])) this.#finishReason = match[1]!;
    }
    if (!this.#midStreamError && recent.includes('"error"') && ERROR.test(recent)) {
      this.#midStreamError = true;
    }
    this.#pending += text;
    this.#findUsage();
  }

  /** Reads every complete usage object in what is pending, keeping the tail that may start one. */
  #findUsage(): void {
    const marker = MARKERS[this.#flavour];
    for (;;) {
      const at = this.#pending.indexOf(marker);
      if (at < 0) {
        this.#pending = this.#pending.slice(-KEEP);
        return;
      }
      const object = balancedObject(this.#pending, at + marker.length);
      if (object === null) {
        this.#pending = this.#pending.slice(at);
        if (this.#pending.length > MAX_PENDING) this.#pending = this.#pending.slice(-KEEP);
        return;
      }
      if (object === NOT_AN_OBJECT) {
        // `"usage": null` (OpenAI's intermediate chunks) or a string: look past it.
        this.#pending = this.#pending.slice(at + marker.length);
        continue;
      }
      // Counts are cumulative, so only the last object matters; one that does not parse leaves
      // the usage unknown rather than an earlier, smaller count.
      this.#usageText = object.text;
      this.#pending = this.#pending.slice(object.end);
    }
  }
}

/**
 * Parses usage from a complete (non-streamed) body.
 * @param text The body.
 * @param flavour `native` or `openai`.
 */
export function usageOf(text: string, flavour: "native" | "openai"): Usage | null {
  const marker = MARKERS[flavour];
  for (let at = text.lastIndexOf(marker); at >= 0; at = text.lastIndexOf(marker, at - 1)) {
    const object = balancedObject(text, at + marker.length);
    if (object !== null && object !== NOT_AN_OBJECT) return parseUsage(object.text, flavour);
    if (at === 0) break;
  }
  return null;
}

/** What {@linkcode balancedObject} answers when the value after the marker is not an object. */
const NOT_AN_OBJECT = { text: "", end: 0 };

/**
 * The JSON object starting after `from` (past a colon): null when not complete yet, and
 * {@linkcode NOT_AN_OBJECT} when the value is something else (`null`, a string).
 */
function balancedObject(text: string, from: number): { text: string; end: number } | null {
  let i = from;
  while (i < text.length && text[i] !== "{") {
    const c = text[i];
    if (c !== ":" && c !== " " && c !== "\n" && c !== "\r" && c !== "\t") return NOT_AN_OBJECT;
    i++;
  }
  if (i >= text.length) return null;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return { text: text.slice(start, i + 1), end: i + 1 };
  }
  return null;
}

function parseUsage(json: string, flavour: "native" | "openai"): Usage | null {
  try {
    return usageFromObject(JSON.parse(json), flavour);
  } catch {
    return null;
  }
}

/**
 * Token counts from a parsed usage object (`usageMetadata` or OpenAI's `usage`).
 * @param object The parsed object.
 * @param flavour `native` or `openai`.
 * @returns The counts, or null when `object` is not an object.
 */
export function usageFromObject(object: unknown, flavour: "native" | "openai"): Usage | null {
  if (typeof object !== "object" || object === null || Array.isArray(object)) return null;
  const value = object as Record<string, unknown>;
  const n = (k: string) => (typeof value[k] === "number" ? value[k] as number : 0);
  if (flavour === "openai") {
    const details = value.completion_tokens_details as Record<string, number> | undefined;
    const promptDetails = value.prompt_tokens_details as Record<string, number> | undefined;
    const prompt = n("prompt_tokens");
    const completion = n("completion_tokens");
    const thoughts = details?.reasoning_tokens ?? 0;
    const usage: Usage = {
      prompt,
      candidates: completion - thoughts,
      thoughts,
      cached: promptDetails?.cached_tokens ?? 0,
      toolUse: 0,
      total: n("total_tokens") || prompt + completion,
    };
    const audio = promptDetails?.audio_tokens;
    if (typeof audio === "number" && audio > 0) usage.audio = audio;
    return usage;
  }
  const prompt = n("promptTokenCount");
  const candidates = n("candidatesTokenCount");
  const thoughts = n("thoughtsTokenCount");
  const toolUse = n("toolUsePromptTokenCount");
  const usage: Usage = {
    prompt,
    candidates,
    thoughts,
    cached: n("cachedContentTokenCount"),
    toolUse,
    total: n("totalTokenCount") || prompt + candidates + thoughts + toolUse,
  };
  const audio = audioTokens(value.promptTokensDetails);
  if (audio > 0) usage.audio = audio;
  const cachedAudio = audioTokens(value.cacheTokensDetails);
  if (cachedAudio > 0) usage.cachedAudio = cachedAudio;
  return usage;
}

/** The AUDIO entry of a `ModalityTokenCount` list (`[{modality, tokenCount}]`), or 0. */
function audioTokens(details: unknown): number {
  if (!Array.isArray(details)) return 0;
  let tokens = 0;
  for (const entry of details) {
    const { modality, tokenCount } = (entry ?? {}) as { modality?: unknown; tokenCount?: unknown };
    if (modality === "AUDIO" && typeof tokenCount === "number") tokens += tokenCount;
  }
  return tokens;
}

/**
 * The last finish reason in a complete body.
 * @param text The body.
 * @param flavour `native` or `openai`.
 */
export function finishReasonOf(text: string, flavour: "native" | "openai"): string | null {
  // From the end, key by key: the answer's last bytes hold its finish reason, so the whole body
  // is not run through the pattern. Matches cannot overlap (a reason holds no quote), so the last
  // key that matches is the last match.
  const key = FINISH_KEYS[flavour];
  const pattern = FINISH_AT[flavour];
  for (
    let at = text.lastIndexOf(key);
    at >= 0;
    at = at === 0 ? -1 : text.lastIndexOf(key, at - 1)
  ) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match) return match[1]!;
  }
  return null;
}
