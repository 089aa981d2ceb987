/**
 * Token usage read from Gemini's answers as they stream past, never holding or delaying a chunk.
 *
 * - {@linkcode usageTap}: a pass-through stream that reports the final usage, finish reason and
 *   byte count when the answer ends.
 * - {@linkcode usageOf}, {@linkcode usageFromObject}, {@linkcode finishReasonOf}: the same
 *   reading on a whole answer.
 * - {@linkcode stripUsage}: drops from an OpenAI stream the usage the proxy asked for and the
 *   client did not.
 * - {@linkcode createUsageReader}, {@linkcode createUsageStripper}: the same two without a stream
 *   of their own, for a relay that moves the chunks itself (one layer, no promise per chunk).
 * @module
 */
export {
  createUsageReader,
  finishReasonOf,
  type TapOptions,
  type TapResult,
  type Usage,
  usageFromObject,
  usageOf,
  type UsageReader,
  usageTap,
} from "./usage.ts";
export { createUsageStripper, stripUsage, type UsageStripper } from "./usage_strip.ts";
