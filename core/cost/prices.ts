/**
 * The price of each model, per million tokens, and how a model id finds its price.
 *
 * The built-in table holds Google's published prices for the Gemini Developer API's paid tier
 * ("Standard" rows) from https://ai.google.dev/gemini-api/docs/pricing, as dated copies of that
 * page show them; each model's sources and their dates are in `price_sources.ts` (the newest
 * from {@linkcode PRICES_TAKEN_ON}). Operators replace it from the console's Settings page or with
 * `PATCH /admin/api/settings` (`{"prices": {...}}`); `{"prices": null}` returns to this table.
 *
 * A model id finds its price by its exact id first, then by the id with a trailing three-digit
 * version removed (`gemini-2.0-flash-001` is priced as `gemini-2.0-flash`). Nothing else maps:
 * aliases such as `gemini-flash-latest` and dated previews not listed are unknown until an
 * operator prices them, and an unknown model is never priced as 0.
 * @module
 */

/** Rates of one context tier, in USD per 1,000,000 tokens (at most 6 decimal places). */
export interface PriceRates {
  /** Prompt tokens that are not cached, and tool-use prompt tokens. */
  input: number;
  /** Output tokens, thinking tokens included (Google bills thinking as output). */
  output: number;
  /** Prompt tokens read from a cache; defaults to `input`. */
  cached?: number;
  /** Audio prompt tokens that are not cached; defaults to `input`. */
  audioInput?: number;
  /** Audio prompt tokens read from a cache; defaults to `cached`. */
  audioCached?: number;
}

/** A model's price: base rates, and optionally rates for long prompts. */
export interface ModelPrice extends PriceRates {
  /** Rates that apply to the whole request when its prompt has more than `above` tokens. */
  longContext?: PriceRates & { above: number };
}

/** Prices by model id. */
export type PriceTable = Record<string, ModelPrice>;

export { PRICE_SOURCES, PRICES_SOURCE, PRICES_TAKEN_ON } from "./price_sources.ts";

const PRO_LONG = 200_000;
/** Gemini 3.1 Pro Preview's rates (and Gemini 3 Pro Preview's, whose id now points to it). */
const PRO_31: ModelPrice = {
  input: 2,
  output: 12,
  cached: 0.2,
  longContext: { above: PRO_LONG, input: 4, output: 18, cached: 0.4 },
};
const FLASH_LITE_31: ModelPrice = {
  input: 0.25,
  output: 1.5,
  cached: 0.025,
  audioInput: 0.5,
  audioCached: 0.05,
};
const FLASH_25: ModelPrice = {
  input: 0.3,
  output: 2.5,
  cached: 0.03,
  audioInput: 1,
  audioCached: 0.1,
};
const FLASH_LITE_25: ModelPrice = {
  input: 0.1,
  output: 0.4,
  cached: 0.01,
  audioInput: 0.3,
  audioCached: 0.03,
};

/**
 * Google's paid-tier "Standard" prices, USD per 1M tokens, each from the sources
 * `PRICE_SOURCES` names. Batch, Flex and Priority prices, context-cache storage, grounding and
 * image, video or Live API pricing are not modelled; models priced only that way (image
 * generation, Veo, Imagen, Live), with rates per modality beyond audio (Gemini Embedding 2), or
 * with rates that change on a date (introductory prices) are left out, so their requests cost
 * "unknown" until an operator prices them.
 */
export const DEFAULT_PRICES: PriceTable = {
  "gemini-3.1-pro-preview": PRO_31,
  "gemini-3.1-pro-preview-customtools": PRO_31,
  "gemini-3-pro-preview": PRO_31,
  "gemini-3.5-flash": { input: 1.5, output: 9, cached: 0.15 },
  "gemini-3.5-flash-lite": { input: 0.3, output: 2.5, cached: 0.03 },
  "gemini-3-flash-preview": {
    input: 0.5,
    output: 3,
    cached: 0.05,
    audioInput: 1,
    audioCached: 0.1,
  },
  "gemini-3.1-flash-lite": FLASH_LITE_31,
  "gemini-3.1-flash-lite-preview": FLASH_LITE_31,
  "gemini-2.5-pro": {
    input: 1.25,
    output: 10,
    cached: 0.125,
    longContext: { above: PRO_LONG, input: 2.5, output: 15, cached: 0.25 },
  },
  "gemini-2.5-flash": FLASH_25,
  "gemini-2.5-flash-preview-09-2025": FLASH_25,
  "gemini-2.5-flash-lite": FLASH_LITE_25,
  "gemini-2.5-flash-lite-preview-09-2025": FLASH_LITE_25,
  "gemini-2.0-flash": {
    input: 0.1,
    output: 0.4,
    cached: 0.025,
    audioInput: 0.7,
    audioCached: 0.175,
  },
  "gemini-2.0-flash-lite": { input: 0.075, output: 0.3 },
  "gemini-2.5-computer-use-preview-10-2025": {
    input: 1.25,
    output: 10,
    longContext: { above: PRO_LONG, input: 2.5, output: 15 },
  },
  "gemini-robotics-er-1.5-preview": { input: 0.3, output: 2.5, audioInput: 1 },
  "gemini-2.5-flash-preview-tts": { input: 0.5, output: 10 },
  "gemini-2.5-pro-preview-tts": { input: 1, output: 20 },
  "gemini-embedding-001": { input: 0.15, output: 0 },
};

/** One tier's rates in integer µUSD per 1M tokens, every default resolved. */
export interface CompiledRates {
  input: number;
  output: number;
  cached: number;
  audioInput: number;
  audioCached: number;
}

/** A model's price ready for arithmetic. */
export interface CompiledPrice {
  base: CompiledRates;
  /** Long-prompt rates and the prompt size above which they apply. */
  long: (CompiledRates & { above: number }) | null;
}

/** A price table ready for lookups (a Map: model names are client input). */
export type CompiledPrices = ReadonlyMap<string, CompiledPrice>;

/**
 * USD per 1M tokens as integer µUSD per 1M tokens (exact for up to 6 decimal places).
 * @param usd A rate in USD.
 */
export function microsPerMillion(usd: number): number {
  return Math.round(usd * 1_000_000);
}

function compileRates(rates: PriceRates): CompiledRates {
  const input = microsPerMillion(rates.input);
  const cached = rates.cached === undefined ? input : microsPerMillion(rates.cached);
  return {
    input,
    output: microsPerMillion(rates.output),
    cached,
    audioInput: rates.audioInput === undefined ? input : microsPerMillion(rates.audioInput),
    audioCached: rates.audioCached === undefined ? cached : microsPerMillion(rates.audioCached),
  };
}

/**
 * Resolves every default of a table once, so pricing a request is a few multiplications.
 * @param table Prices by model id (validated by `priceTableSchema`).
 * @returns The table as a Map of compiled prices.
 */
export function compilePrices(table: PriceTable): CompiledPrices {
  const out = new Map<string, CompiledPrice>();
  for (const [model, price] of Object.entries(table)) {
    const long = price.longContext
      ? { ...compileRates(price.longContext), above: price.longContext.above }
      : null;
    out.set(model, { base: compileRates(price), long });
  }
  return out;
}

/** A trailing version such as `-001`. */
const VERSION_SUFFIX = /^(.+)-\d{3}$/;

/**
 * The price of a model: by exact id, then by the id without a trailing `-NNN` version.
 * @param prices Compiled prices.
 * @param model A model id (without `models/`), or null.
 * @returns The price, or null when the model is unpriced.
 * @example
 * ```ts
 * priceFor(compilePrices(DEFAULT_PRICES), "gemini-2.0-flash-001"); // gemini-2.0-flash's price
 * ```
 */
export function priceFor(prices: CompiledPrices, model: string | null): CompiledPrice | null {
  if (model === null) return null;
  const exact = prices.get(model);
  if (exact) return exact;
  const base = VERSION_SUFFIX.exec(model)?.[1];
  return base === undefined ? null : prices.get(base) ?? null;
}

/**
 * Compiled prices that follow a changing table: compiled again only when the table changes.
 * @param table Reads the current table (e.g. the runtime settings' `prices`).
 * @returns A function answering the compiled current table.
 */
export function livePrices(table: () => PriceTable): () => CompiledPrices {
  let source: PriceTable | null = null;
  let compiled: CompiledPrices = new Map();
  return function currentPrices(): CompiledPrices {
    const current = table();
    if (current !== source) {
      compiled = compilePrices(current);
      source = current;
    }
    return compiled;
  };
}
