/**
 * Where each built-in price comes from. Every figure is Google's own, from its pricing page
 * ({@linkcode PRICES_SOURCE}); since that page cannot be read from where this table is kept
 * up to date, the figures come from dated copies and quotations of it, named here per model with
 * the day each was read. A model is priced only when such a source states its rates.
 * @module
 */

/** Google's pricing page, the origin of every built-in figure. */
export const PRICES_SOURCE = "https://ai.google.dev/gemini-api/docs/pricing";

/** A dated copy or quotation of Google's pricing page, and what was taken from it. */
export interface PriceSource {
  /** What it is, in a few words. */
  name: string;
  /** Where the copy or quotation is. */
  url: string;
  /** The day the page was read (ISO date), as the copy states it. */
  takenOn: string;
  /** Which of the model's rates it gives. */
  gives: string;
}

/** Google's page as it stood on 2025-11-21: the table's first source. */
const GOOGLE_2025_11_21 = {
  name: "Google's pricing page",
  url: PRICES_SOURCE,
  takenOn: "2025-11-21",
};
/** Pricing transcribed verbatim from Google's page, read 2026-10-07 (no cache rates). */
const API_EVANGELIST = {
  name: "api-evangelist/deepmind",
  url: "https://github.com/api-evangelist/deepmind/blob/main/plans/deepmind-plans-pricing.yml",
  takenOn: "2026-10-07",
};
/** pydantic/genai-prices: Google's rates per model, each with the day it was checked. */
const GENAI_PRICES =
  "https://github.com/pydantic/genai-prices/blob/main/prices/providers/google.yml";
/** A quotation of Google's page for Gemini 3 Flash Preview, accessed 2026-07-04. */
const FACTQUIRE_3_FLASH = {
  name: "factquire.com",
  url: "https://factquire.com/models/google/gemini-3-flash-preview.json",
  takenOn: "2026-07-04",
};
/** A guide re-checked against Google's pages on 2026-03-28 (gemini-3-pro-preview's shutdown). */
const LAOZHANG = {
  name: "blog.laozhang.ai",
  url: "https://blog.laozhang.ai/en/posts/gemini-3-1-pro-preview-free-api",
  takenOn: "2026-03-28",
};

const FIRST = { ...GOOGLE_2025_11_21, gives: "every rate" };
const genai = (takenOn: string, gives: string) => ({
  name: "pydantic/genai-prices",
  url: GENAI_PRICES,
  takenOn,
  gives,
});

/** The sources of each model of `DEFAULT_PRICES`, newest first. */
export const PRICE_SOURCES: Readonly<Record<string, readonly PriceSource[]>> = {
  "gemini-3.1-pro-preview": [
    { ...API_EVANGELIST, gives: "input and output, both tiers" },
    genai("2026-02-23", "every rate"),
  ],
  "gemini-3.1-pro-preview-customtools": [
    genai("2026-02-23", "every rate: gemini-3.1-pro-preview's, which it applies to this id too"),
  ],
  "gemini-3-pro-preview": [
    {
      ...LAOZHANG,
      gives: "shut down; its id now points to gemini-3.1-pro-preview, priced the same",
    },
    FIRST,
  ],
  "gemini-3.5-flash": [
    { ...API_EVANGELIST, gives: "input and output" },
    genai("2026-05-19", "every rate"),
  ],
  "gemini-3.5-flash-lite": [
    { ...API_EVANGELIST, gives: "input (one rate for every modality) and output" },
    genai("2026-07-22", "every rate"),
  ],
  "gemini-3-flash-preview": [
    { ...FACTQUIRE_3_FLASH, gives: "input (text and audio), output, cached" },
    genai("2025-12-19", "every rate"),
  ],
  "gemini-3.1-flash-lite": [genai("2026-05-12", "every rate")],
  "gemini-3.1-flash-lite-preview": [genai("2026-05-12", "every rate (the GA model's)")],
  "gemini-2.5-pro": [{ ...API_EVANGELIST, gives: "input, both tiers" }, FIRST],
  "gemini-2.5-flash": [{ ...API_EVANGELIST, gives: "input (text and audio)" }, FIRST],
  "gemini-2.5-flash-lite": [{ ...API_EVANGELIST, gives: "output" }, FIRST],
  "gemini-2.5-flash-preview-09-2025": [FIRST],
  "gemini-2.5-flash-lite-preview-09-2025": [FIRST],
  "gemini-2.0-flash": [FIRST],
  "gemini-2.0-flash-lite": [FIRST],
  "gemini-2.5-computer-use-preview-10-2025": [FIRST],
  "gemini-robotics-er-1.5-preview": [FIRST],
  "gemini-2.5-flash-preview-tts": [FIRST],
  "gemini-2.5-pro-preview-tts": [FIRST],
  "gemini-embedding-001": [FIRST],
};

/** The day of the newest source: no built-in figure was read later than this. */
export const PRICES_TAKEN_ON: string = Object.values(PRICE_SOURCES).flat()
  .map((s) => s.takenOn).reduce((a, b) => (a > b ? a : b));
