/**
 * Token usage read from Gemini's answers as they stream past, never holding or delaying a chunk.
 *
 * - {@linkcode usageTap}: a pass-through stream that reports the final usage, finish reason and
 *   byte count when the answer ends.
 * - {@linkcode usageOf}, {@linkcode usageFromObject}, {@linkcode finishReasonOf}: the same
 *   reading on a whole answer.
 * - {@linkcode stripUsage}: drops from an OpenAI stream the usage the proxy asked for and the
 *   client did not.
 * @module
 */
export {
  finishReasonOf,
  type TapOptions,
  type TapResult,
  type Usage,
  usageFromObject,
  usageOf,
  usageTap,
} from "./usage.ts";
export { stripUsage } from "./usage_strip.ts";
