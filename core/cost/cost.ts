/**
 * What a request costs, in whole micro-dollars (µUSD; 1 USD = 1,000,000 µUSD).
 *
 * The cost of a response is the sum of these components, each tokens × rate:
 * - prompt tokens not read from a cache, at `input` (`audioInput` for audio ones), plus tool-use
 *   prompt tokens at `input`;
 * - cached prompt tokens at `cached` (`audioCached` for audio ones): `promptTokenCount` includes
 *   `cachedContentTokenCount`, so cached tokens are taken out of the prompt, never counted twice;
 * - output tokens and thinking tokens at `output` (Google's price column is "Output price
 *   (including thinking tokens)").
 *
 * The whole request uses the long-context rates when its prompt (`promptTokenCount`, cached
 * tokens included) has more than `longContext.above` tokens, as Google's "prompts > 200k tokens".
 *
 * Rounding: rates are integers in µUSD per 1M tokens, so every component is an exact fraction
 * `tokens × rate / 1,000,000` µUSD. The fractions are summed exactly and the total is rounded once,
 * half up, to a whole µUSD: 7 tokens at $0.075/1M (0.525 µUSD) cost 1 µUSD, 6 tokens (0.45 µUSD)
 * cost 0.
 * @module
 */
import type { LogRecord } from "../store/mod.ts";
import type { Usage } from "../usage/mod.ts";
import { type CompiledPrice, type CompiledPrices, priceFor } from "./prices.ts";

/** µUSD in one US dollar. */
export const MICROS_PER_USD = 1_000_000;

/** A record's cost: known (possibly 0, for calls Google does not bill) or unknown. */
export type RecordCost = { costMicros: number } | { costUnknown: true };

/** Native methods and OpenAI paths that Google bills. */
const BILLED_METHODS = new Set([
  "generateContent",
  "streamGenerateContent",
  "embedContent",
  "batchEmbedContents",
  "asyncBatchEmbedContent",
  "batchGenerateContent",
  "predict",
  "predictLongRunning",
  "interactions",
  "chat/completions",
  "embeddings",
  "images/generations",
]);

/** Billed methods whose responses carry token usage, so they can be metered. */
const METERED_METHODS = new Set([
  "generateContent",
  "streamGenerateContent",
  "embedContent",
  "batchEmbedContents",
  "chat/completions",
  "embeddings",
]);

/**
 * Whether Google bills a call (the Live API's sessions included).
 * @param flavour The record's flavour (`native`, `openai`, `upload`, `live`).
 * @param method The API method (`generateContent`, `chat/completions`...).
 */
export function isBilled(flavour: string, method: string): boolean {
  return flavour === "live" || (flavour !== "upload" && BILLED_METHODS.has(method));
}

/**
 * Whether a call is billed per token and answers with its usage, so its cost can be measured.
 * @param flavour The flavour.
 * @param method The API method.
 */
export function isMetered(flavour: string, method: string): boolean {
  return (flavour === "native" || flavour === "openai") && METERED_METHODS.has(method);
}

/** A token count made safe for arithmetic: a whole number, at least 0. */
function count(value: number | undefined): bigint {
  return value !== undefined && Number.isFinite(value) && value > 0
    ? BigInt(Math.floor(value))
    : 0n;
}

/**
 * The cost of a response's usage at a model's price.
 * @param price The model's compiled price.
 * @param usage The response's final usage.
 * @returns Whole µUSD, rounded once, half up.
 * @example
 * ```ts
 * const price = priceFor(compilePrices(DEFAULT_PRICES), "gemini-2.5-flash")!;
 * costOf(price, { prompt: 1000, candidates: 500, thoughts: 0, cached: 0, toolUse: 0, total: 1500 });
 * // 1000 × 0.30 + 500 × 2.50 = 1550 µUSD
 * ```
 */
export function costOf(price: CompiledPrice, usage: Usage): number {
  const prompt = count(usage.prompt);
  const rates = price.long && prompt > BigInt(price.long.above) ? price.long : price.base;
  const cached = min(count(usage.cached), prompt);
  const cachedAudio = min(count(usage.cachedAudio), cached);
  const freshAudio = max0(min(count(usage.audio), prompt) - cachedAudio);
  const freshText = max0(prompt - cached - freshAudio);
  const scaled = (freshText + count(usage.toolUse)) * BigInt(rates.input) +
    freshAudio * BigInt(rates.audioInput) +
    (cached - cachedAudio) * BigInt(rates.cached) +
    cachedAudio * BigInt(rates.audioCached) +
    (count(usage.candidates) + count(usage.thoughts)) * BigInt(rates.output);
  return Number((scaled + 500_000n) / 1_000_000n);
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max0(a: bigint): bigint {
  return a > 0n ? a : 0n;
}

/**
 * The cost a finished request's log record carries. Unknown, never 0, when the response had
 * usage and the model has no price, when a stream ended without usage, or when a billed call
 * succeeded without reporting usage; 0 for calls Google does not bill (errors, listings, files).
 * @param record The finished record.
 * @param prices Compiled prices.
 */
export function recordCost(record: LogRecord, prices: CompiledPrices): RecordCost {
  if (record.usage) {
    const price = priceFor(prices, record.model);
    return price ? { costMicros: costOf(price, record.usage) } : { costUnknown: true };
  }
  if (record.usageUnknown) return { costUnknown: true };
  const succeeded = record.status > 0 && record.status < 400;
  if (succeeded && isBilled(record.flavour, record.method)) return { costUnknown: true };
  return { costMicros: 0 };
}

/**
 * An amount of µUSD as dollars, exactly: `25000000` is `$25.00`, `1550` is `$0.00155`.
 * @param micros Whole µUSD.
 */
export function formatUsd(micros: number): string {
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(Math.round(micros));
  const cents = String(abs % MICROS_PER_USD).padStart(6, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${sign}$${Math.floor(abs / MICROS_PER_USD)}.${cents}`;
}
