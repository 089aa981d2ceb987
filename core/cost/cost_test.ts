import { assertEquals } from "../../tests/support/assert.ts";
import { sampleLog } from "../../tests/support/store_contract/mod.ts";
import { type Usage, usageFromObject } from "../usage/usage.ts";
import { costOf, formatUsd, recordCost } from "./cost.ts";
import { compilePrices, DEFAULT_PRICES, priceFor } from "./prices.ts";

const prices = compilePrices(DEFAULT_PRICES);

function usage(fields: Partial<Usage>): Usage {
  return { prompt: 0, candidates: 0, thoughts: 0, cached: 0, toolUse: 0, total: 0, ...fields };
}

/**
 * Each row worked by hand from Google's published rates (USD per 1M tokens): 1 token at $r/1M
 * costs r µUSD, so a component is tokens × r µUSD, and the sum is rounded once, half up.
 */
const TABLE: [string, string, Partial<Usage>, number][] = [
  // 1000 × 0.30 + 500 × 2.50 = 300 + 1250
  ["2.5 Flash, plain text", "gemini-2.5-flash", { prompt: 1000, candidates: 500 }, 1550],
  // thinking at the output rate: 1000 × 0.30 + (200 + 800) × 2.50 = 300 + 2500
  [
    "2.5 Flash, thinking",
    "gemini-2.5-flash",
    { prompt: 1000, candidates: 200, thoughts: 800 },
    2800,
  ],
  // cached taken out of the prompt: 2000 × 0.30 + 8000 × 0.03 + 100 × 2.50 = 600 + 240 + 250
  [
    "2.5 Flash, cached",
    "gemini-2.5-flash",
    { prompt: 10_000, cached: 8000, candidates: 100 },
    1090,
  ],
  // audio 4000 of which 1000 cached; cached 3000 in all:
  // text 4000 × 0.30 + audio 3000 × 1.00 + cached text 2000 × 0.03 + cached audio 1000 × 0.10
  // + out 100 × 2.50 = 1200 + 3000 + 60 + 100 + 250
  [
    "2.5 Flash, audio and cached audio",
    "gemini-2.5-flash",
    { prompt: 10_000, audio: 4000, cached: 3000, cachedAudio: 1000, candidates: 100 },
    4610,
  ],
  // tool-use prompt tokens at the input rate: (100 + 900) × 0.30 + 10 × 2.50 = 300 + 25
  ["2.5 Flash, tool use", "gemini-2.5-flash", { prompt: 100, toolUse: 900, candidates: 10 }, 325],
  // exactly 200k is the base tier: 200000 × 1.25 + 1000 × 10 = 250000 + 10000
  [
    "2.5 Pro, 200,000 prompt tokens",
    "gemini-2.5-pro",
    { prompt: 200_000, candidates: 1000 },
    260_000,
  ],
  // one more is the long tier for the whole request: 200001 × 2.50 + 1000 × 15 = 515002.5 -> up
  [
    "2.5 Pro, 200,001 prompt tokens",
    "gemini-2.5-pro",
    { prompt: 200_001, candidates: 1000 },
    515_003,
  ],
  // long tier with cache and thinking: 200000 × 2.50 + 100000 × 0.25 + 5000 × 15
  [
    "2.5 Pro, long, cached, thinking",
    "gemini-2.5-pro",
    { prompt: 300_000, cached: 100_000, candidates: 2000, thoughts: 3000 },
    600_000,
  ],
  // long tier by the prompt alone (tool use not counted for the tier):
  // (250000 + 1000) × 4.00 + 1000 × 18 = 1004000 + 18000
  [
    "3 Pro Preview, long, tool use",
    "gemini-3-pro-preview",
    { prompt: 250_000, toolUse: 1000, candidates: 1000 },
    1_022_000,
  ],
  // 3 Pro Preview base tier with cache: 1000 × 2.00 + 1000 × 0.20 + 100 × 12 = 2000 + 200 + 1200
  [
    "3 Pro Preview, cached",
    "gemini-3-pro-preview",
    { prompt: 2000, cached: 1000, candidates: 100 },
    3400,
  ],
  // 3.1 Pro Preview: 1000 × 2.00 + 1000 × 0.20 + 100 × 12 = 2000 + 200 + 1200
  [
    "3.1 Pro Preview, cached",
    "gemini-3.1-pro-preview",
    { prompt: 2000, cached: 1000, candidates: 100 },
    3400,
  ],
  // long tier, cached and thinking: 200000 × 4.00 + 50000 × 0.40 + (1000 + 4000) × 18
  // = 800000 + 20000 + 90000
  [
    "3.1 Pro Preview, long, cached, thinking",
    "gemini-3.1-pro-preview",
    { prompt: 250_000, cached: 50_000, candidates: 1000, thoughts: 4000 },
    910_000,
  ],
  // the custom-tools variant at the same rates: 1000 × 2.00 + 1000 × 12
  [
    "3.1 Pro Preview custom tools",
    "gemini-3.1-pro-preview-customtools",
    { prompt: 1000, candidates: 1000 },
    14_000,
  ],
  // 3 Flash Preview, audio 4000 of which 1000 cached, cached 3000 in all: text 4000 × 0.50
  // + audio 3000 × 1.00 + cached text 2000 × 0.05 + cached audio 1000 × 0.10 + 100 × 3.00
  // = 2000 + 3000 + 100 + 100 + 300
  [
    "3 Flash Preview, audio and cached audio",
    "gemini-3-flash-preview",
    { prompt: 10_000, audio: 4000, cached: 3000, cachedAudio: 1000, candidates: 100 },
    5500,
  ],
  // 3.5 Flash: 6000 × 1.50 + 4000 × 0.15 + (500 + 1500) × 9 = 9000 + 600 + 18000
  [
    "3.5 Flash, cached and thinking",
    "gemini-3.5-flash",
    { prompt: 10_000, cached: 4000, candidates: 500, thoughts: 1500 },
    27_600,
  ],
  // no audio rate of its own: audio at the input rate, 1000 × 1.50
  ["3.5 Flash, audio at the input rate", "gemini-3.5-flash", { prompt: 1000, audio: 1000 }, 1500],
  // 3.5 Flash-Lite, one input rate for every modality: 1000 × 0.30 + 1000 × 0.03 + 100 × 2.50
  [
    "3.5 Flash-Lite, cached audio",
    "gemini-3.5-flash-lite",
    { prompt: 2000, audio: 2000, cached: 1000, cachedAudio: 1000, candidates: 100 },
    580,
  ],
  // 3.1 Flash-Lite: text 1000 × 0.25 + audio 1000 × 0.50 + 1000 × 1.50 = 250 + 500 + 1500
  [
    "3.1 Flash-Lite, audio",
    "gemini-3.1-flash-lite",
    { prompt: 2000, audio: 1000, candidates: 1000 },
    2250,
  ],
  // the preview at the GA model's rates: 2000 × 0.25 + 8000 × 0.025 = 500 + 200
  [
    "3.1 Flash-Lite Preview, cached",
    "gemini-3.1-flash-lite-preview",
    { prompt: 10_000, cached: 8000 },
    700,
  ],
  // rounding at the cached rate: 21 × 0.025 = 0.525 -> 1
  ["3.1 Flash-Lite, a cached half", "gemini-3.1-flash-lite", { prompt: 21, cached: 21 }, 1],
  // a whole 1M-token context: 1048576 × 2.50 + 65536 × 15 = 2621440 + 983040
  [
    "2.5 Pro, a full context",
    "gemini-2.5-pro",
    { prompt: 1_048_576, candidates: 65_536 },
    3_604_480,
  ],
  // 1000 × 0.10 + 1000 × 0.40
  ["2.5 Flash-Lite", "gemini-2.5-flash-lite", { prompt: 1000, candidates: 1000 }, 500],
  // audio at 0.70: 1000000 × 0.70
  [
    "2.0 Flash, an hour of audio",
    "gemini-2.0-flash",
    { prompt: 1_000_000, audio: 1_000_000 },
    700_000,
  ],
  // 1000 × 0.15
  ["Embedding", "gemini-embedding-001", { prompt: 1000 }, 150],
  // rounding: 7 × 0.075 = 0.525 -> 1; 6 × 0.075 = 0.45 -> 0; 20 × 0.075 = 1.5 -> 2 (half up)
  ["rounding up past a half", "gemini-2.0-flash-lite", { prompt: 7 }, 1],
  ["rounding down below a half", "gemini-2.0-flash-lite", { prompt: 6 }, 0],
  ["rounding an exact half up", "gemini-2.0-flash-lite", { prompt: 20 }, 2],
  // rounded once: 4 × 0.075 + 4 × 0.30 = 0.3 + 1.2 = 1.5 -> 2 (per component it would be 0 + 1)
  ["rounding the sum, not the parts", "gemini-2.0-flash-lite", { prompt: 4, candidates: 4 }, 2],
  // inconsistent counts are clamped: cached above the prompt counts as the prompt (100 × 0.03)
  ["cached above the prompt", "gemini-2.5-flash", { prompt: 100, cached: 500 }, 3],
  // a versioned id is priced as its family: 1000 × 0.10 + 1000 × 0.40
  ["a -001 version", "gemini-2.0-flash-001", { prompt: 1000, candidates: 1000 }, 500],
];

for (const [name, model, fields, expected] of TABLE) {
  Deno.test(`costOf() to the micro-dollar: ${name}`, () => {
    const price = priceFor(prices, model);
    assertEquals(price === null ? null : costOf(price, usage(fields)), expected);
  });
}

Deno.test("costOf() prices OpenAI usage: reasoning tokens as output, cached ones at the cache rate", () => {
  const parsed = usageFromObject({
    prompt_tokens: 1000,
    completion_tokens: 600,
    total_tokens: 1600,
    completion_tokens_details: { reasoning_tokens: 400 },
    prompt_tokens_details: { cached_tokens: 200 },
  }, "openai")!;
  // 800 × 0.30 + 200 × 0.03 + (200 + 400) × 2.50 = 240 + 6 + 1500
  assertEquals(costOf(priceFor(prices, "gemini-2.5-flash")!, parsed), 1746);
});

Deno.test("usageFromObject() reads audio prompt and cache tokens from Gemini's modality lists", () => {
  const parsed = usageFromObject({
    promptTokenCount: 10_000,
    candidatesTokenCount: 100,
    cachedContentTokenCount: 3000,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: 6000 }, {
      modality: "AUDIO",
      tokenCount: 4000,
    }],
    cacheTokensDetails: [{ modality: "AUDIO", tokenCount: 1000 }, {
      modality: "TEXT",
      tokenCount: 2000,
    }],
  }, "native")!;
  assertEquals([parsed.audio, parsed.cachedAudio], [4000, 1000]);
  assertEquals(costOf(priceFor(prices, "gemini-2.5-flash")!, parsed), 4610);
  const text = usageFromObject(
    { promptTokenCount: 5, promptTokensDetails: [{ modality: "TEXT" }] },
    "native",
  )!;
  assertEquals("audio" in text, false, "no audio field without audio tokens");
});

Deno.test("priceFor() maps exact ids, then a -NNN version, and nothing else", () => {
  assertEquals(priceFor(prices, "gemini-2.0-flash-001"), priceFor(prices, "gemini-2.0-flash"));
  assertEquals(
    priceFor(prices, "gemini-2.5-flash-preview-09-2025"),
    priceFor(prices, "gemini-2.5-flash"),
  );
  for (
    const unknown of [
      "gemini-flash-latest",
      "gemini-2.5-flash-0001",
      "constructor",
      "__proto__",
      "",
      "gemini-2.5-flash-preview-04-17",
    ]
  ) {
    assertEquals(priceFor(prices, unknown), null, unknown);
  }
  assertEquals(priceFor(prices, null), null);
});

Deno.test("recordCost() is unknown, never 0, when the model is unpriced or usage is missing", () => {
  const used = usage({ prompt: 1000, candidates: 500 });
  const at = 1_700_000_000_000;
  const priced = sampleLog("a", at, { model: "gemini-2.5-flash", usage: used });
  assertEquals(recordCost(priced, prices), { costMicros: 1550 });
  assertEquals(recordCost({ ...priced, model: "my-tuned-model" }, prices), { costUnknown: true });
  assertEquals(recordCost({ ...priced, model: null }, prices), { costUnknown: true });
  const streamCut = { ...priced, usage: null, stream: true, usageUnknown: true };
  assertEquals(recordCost(streamCut, prices), { costUnknown: true });
  assertEquals(
    recordCost({ ...priced, usage: null }, prices),
    { costUnknown: true },
    "billed, no usage",
  );
  const live = {
    ...priced,
    usage: null,
    flavour: "live",
    method: "BidiGenerateContent",
    status: 101,
  };
  assertEquals(recordCost(live, prices), { costUnknown: true });
  assertEquals(recordCost({ ...priced, usage: null, status: 429 }, prices), { costMicros: 0 });
  const list = { ...priced, usage: null, model: null, method: "models", httpMethod: "GET" };
  assertEquals(recordCost(list, prices), { costMicros: 0 });
  const upload = { ...priced, usage: null, flavour: "upload", method: "upload" };
  assertEquals(recordCost(upload, prices), { costMicros: 0 });
});

Deno.test("formatUsd() writes µUSD as exact dollars", () => {
  assertEquals(formatUsd(25_000_000), "$25.00");
  assertEquals(formatUsd(1550), "$0.00155");
  assertEquals(formatUsd(1), "$0.000001");
  assertEquals(formatUsd(1_230_000), "$1.23");
  assertEquals(formatUsd(0), "$0.00");
  assertEquals(formatUsd(-500_000), "-$0.50");
});
