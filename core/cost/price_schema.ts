/**
 * Validation of price tables sent by the console and the admin API: bounded in size (they are
 * held in memory by every process and saved as one settings value) and in range.
 * @module
 */
import * as z from "zod";
import type { PriceTable } from "./prices.ts";

/** Most models a price table may hold. */
export const MAX_PRICED_MODELS = 100;
/** Highest rate accepted, USD per 1M tokens. */
export const MAX_RATE_USD = 10_000;
/** Longest model id accepted. */
export const MAX_MODEL_ID = 80;

/**
 * Whether a number has at most 6 decimal places (so it is exact in µUSD), judged on its shortest
 * decimal form, which is the form it was written in: `0.075` has 3, `1e-7` has 7.
 */
function sixDecimals(value: number): boolean {
  const [mantissa = "", exponent = "0"] = value.toString().split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return fraction - Number(exponent) <= 6;
}

const rate = z.number({ error: (issue) => `${JSON.stringify(issue.input)} is not a number` })
  .min(0, { error: "must not be negative" })
  .max(MAX_RATE_USD, { error: `must be at most ${MAX_RATE_USD} USD per 1M tokens` })
  .refine(sixDecimals, { error: "must have at most 6 decimal places" });

const rates = {
  input: rate,
  output: rate,
  cached: rate.optional(),
  audioInput: rate.optional(),
  audioCached: rate.optional(),
};

const modelPrice = z.object({
  ...rates,
  longContext: z.object({
    above: z.number().int().min(1).max(100_000_000),
    ...rates,
  }).strict().optional(),
}).strict();

/** What a model id in a price table looks like: model-name characters only. */
const MODEL_ID = /^[A-Za-z0-9][\w.@-]*$/;

/** A price table: at most {@linkcode MAX_PRICED_MODELS} models, keyed by model id. */
export const priceTableSchema: z.ZodType<PriceTable> = z.record(z.string(), modelPrice)
  .superRefine((table, ctx) => {
    const models = Object.keys(table);
    if (models.length > MAX_PRICED_MODELS) {
      ctx.addIssue({ code: "custom", message: `must price at most ${MAX_PRICED_MODELS} models` });
    }
    for (const model of models) {
      if (model.length <= MAX_MODEL_ID && MODEL_ID.test(model)) continue;
      ctx.addIssue({
        code: "custom",
        path: [model.slice(0, 100)],
        message: `"${model.slice(0, 100)}" is not a model id (up to ${MAX_MODEL_ID} letters, ` +
          `digits and . _ - @)`,
      });
    }
  });
