/**
 * Monthly USD budgets of proxy tokens: the cost estimate a request reserves when it is admitted,
 * and what its reservation settles to when it ends.
 *
 * The estimate prices the request at its model's rates as if its prompt had one token per
 * {@linkcode BYTES_PER_TOKEN} bytes of request body and its answer used all of its output
 * allowance (`generationConfig.maxOutputTokens`, or OpenAI's `max_completion_tokens` /
 * `max_tokens`, at most {@linkcode MAX_OUTPUT_RESERVE}; {@linkcode DEFAULT_OUTPUT_RESERVE} when
 * the request sets none; 0 for embeddings). It is a guess, not a bound: the end of the request
 * replaces it with the real cost.
 *
 * A token with a budget is refused, before anything goes upstream, a billed call the proxy cannot
 * meter: a model without a price, or a method whose answer carries no token usage (the Live API,
 * batches, image and video generation). It would spend without limit otherwise.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { LogRecord, TokenRecord } from "../store/mod.ts";
import { costOf, isBilled, isMetered, type RecordCost } from "./cost.ts";
import { type CompiledPrices, priceFor } from "./prices.ts";

/** How a finished request's cost settles its reservation. */
export interface ChargeCost {
  /** What the request cost, µUSD (its reservation, when the cost is unknown). */
  micros: number;
  /** What admission reserved, µUSD (0 when nothing was). */
  reservedMicros: number;
}

/** Request-body bytes counted as one prompt token in the estimate. */
export const BYTES_PER_TOKEN = 4;
/** Output tokens reserved when a request does not limit its output. */
export const DEFAULT_OUTPUT_RESERVE = 8192;
/** Most output tokens reserved, whatever a request asks for. */
export const MAX_OUTPUT_RESERVE = 65_536;

/** What {@linkcode budgetReservation} needs to know about a request. */
export interface BudgetRequest {
  /** `native`, `openai`, `upload`, `live`. */
  flavour: string;
  /** API method (`generateContent`, `chat/completions`...). */
  method: string;
  /** Model, when known. */
  model: string | null;
  /** Request body size in bytes (declared or counted). */
  bytes: number;
  /** The parsed body, when the proxy parsed it (OpenAI routes). */
  json?: unknown;
  /** The body as text, when buffered JSON (native routes). */
  text?: string | null;
}

/**
 * The cost estimate a request reserves against its token's monthly budget.
 * @param token The authenticated token.
 * @param request The request.
 * @param prices Compiled prices.
 * @returns µUSD to reserve, or undefined when the token has no budget or Google does not bill
 *   the call.
 * @throws {HttpError} 403 when the token has a budget and the call is billed but cannot be
 *   metered (unpriced model, or no usage in the answer).
 */
export function budgetReservation(
  token: TokenRecord,
  request: BudgetRequest,
  prices: CompiledPrices,
): number | undefined {
  if (token.limits?.budgetMicros === undefined) return undefined;
  const { flavour, method, model } = request;
  if (!isBilled(flavour, method)) return undefined;
  if (!isMetered(flavour, method)) {
    throw new HttpError(
      403,
      `Proxy token "${token.name}" has a monthly budget, and ${
        flavour === "live" ? "Live API sessions" : `"${clip(method)}" calls`
      } report no token usage the proxy could charge`,
      { reason: "TOKEN_BUDGET_UNMETERED" },
    );
  }
  const price = priceFor(prices, model);
  if (!price) {
    throw new HttpError(
      403,
      `Proxy token "${token.name}" has a monthly budget, and model "${
        clip(model ?? "")
      }" has no price: an admin can price it in Settings`,
      { reason: "TOKEN_BUDGET_UNPRICED_MODEL" },
    );
  }
  const embedding = method === "embedContent" || method === "batchEmbedContents" ||
    method === "embeddings";
  return costOf(price, {
    prompt: Math.ceil(Math.max(0, request.bytes) / BYTES_PER_TOKEN),
    candidates: embedding ? 0 : outputAllowance(request),
    thoughts: 0,
    cached: 0,
    toolUse: 0,
    total: 0,
  });
}

/** The output tokens a request allows itself, bounded, or the default. */
function outputAllowance(request: BudgetRequest): number {
  let body = request.json;
  // Parsed only when it may set an allowance: a large prompt is not parsed for nothing.
  if (body === undefined && request.text && /max_?[oO]utput_?[tT]okens/.test(request.text)) {
    try {
      body = JSON.parse(request.text);
    } catch {
      body = undefined;
    }
  }
  const b = (body ?? {}) as Record<string, unknown>;
  const config = (b.generationConfig ?? b.generation_config ?? {}) as Record<string, unknown>;
  const asked = [
    config.maxOutputTokens,
    config.max_output_tokens,
    b.max_completion_tokens,
    b.max_tokens,
  ].find((v) => typeof v === "number" && Number.isFinite(v) && v > 0) as number | undefined;
  return asked === undefined
    ? DEFAULT_OUTPUT_RESERVE
    : Math.min(Math.ceil(asked), MAX_OUTPUT_RESERVE);
}

/**
 * What a finished request's reservation settles to: its cost when known; its whole reservation
 * when it succeeded without a known cost (a stream cut before its usage: what it spent is not
 * known, so the estimate stands); nothing when it failed (Google bills no failed call).
 * @param record The finished record.
 * @param cost The record's cost.
 * @param reservedMicros What admission reserved.
 */
export function settlement(
  record: LogRecord,
  cost: RecordCost,
  reservedMicros: number,
): ChargeCost {
  if ("costMicros" in cost) return { micros: cost.costMicros, reservedMicros };
  const succeeded = record.status > 0 && record.status < 400;
  return { micros: succeeded ? reservedMicros : 0, reservedMicros };
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
