/**
 * generateContent and streamGenerateContent: the echo reply, its usage and how it is streamed
 * (SSE with CRLF framing, or a JSON array written progressively), cut where told; countTokens.
 * @module
 */

import { badRequest, errorReply, failureError, gError, ownerCheck } from "./errors.ts";
import { countFakeTokens } from "./models.ts";
import { type Ctx, type GoogleError, type Json, JSON_TYPE, type Reply, SSE_TYPE } from "./state.ts";
import { asArr, asObj, asStr, responseId } from "./util.ts";
import { jsonReply, oneLine, paced, pretty } from "./wire.ts";

/** Concatenated text of a Content's parts, joined with a space. */
export function partsText(content: Json): string {
  return asArr(content.parts)
    .map((p) => asStr(asObj(p)?.text))
    .filter((t): t is string => t !== undefined)
    .join(" ");
}

export interface Plan {
  modelVersion: string;
  responseId: string;
  promptTokens: number;
  cachedTokens: number;
  /** thinking tokens: the request's thinkingConfig.thinkingBudget when positive, else 0 */
  thoughtsTokens: number;
  /** reply split into words with their leading whitespace, so pieces concatenate back */
  words: string[];
  finishReason: string;
}

/** Works out a generation: the echo, its token counts and finish reason; or the error. */
export function planGeneration(ctx: Ctx, model: string, body: Json): Plan | GoogleError {
  const contents = asArr(body.contents).map((c) => asObj(c) ?? {});
  if (contents.length === 0) {
    return badRequest("* GenerateContentRequest.contents: contents is not specified\n");
  }
  const refused = checkReferences(ctx, body, contents);
  if (refused) return refused;
  let cachedTokens = 0;
  const cacheName = asStr(body.cachedContent);
  if (cacheName) {
    const cache = ctx.st.caches.get(cacheName.replace(/^cachedContents\//, ""));
    cachedTokens = Number(asObj(cache?.resource.usageMetadata)?.totalTokenCount) || 0;
  }
  const system = asObj(body.systemInstruction);
  const promptText = [system ? partsText(system) : "", ...contents.map(partsText)].join(" ");
  const lastUser = [...contents].reverse().find((c) => c.role === undefined || c.role === "user");
  const reply = `Echo: ${lastUser ? partsText(lastUser) : ""}`;
  let words: string[] = reply.match(/\s*\S+/g) ?? [reply];
  let finishReason = "STOP";
  const max = Number(asObj(body.generationConfig)?.maxOutputTokens);
  const budget = Number(asObj(asObj(body.generationConfig)?.thinkingConfig)?.thinkingBudget);
  if (max > 0 && words.length > max) {
    words = words.slice(0, max);
    finishReason = "MAX_TOKENS";
  }
  return {
    modelVersion: model,
    responseId: responseId(),
    promptTokens: countFakeTokens(promptText) + cachedTokens,
    cachedTokens,
    thoughtsTokens: budget > 0 ? Math.floor(budget) : 0,
    words,
    finishReason,
  };
}

/** Refuses caches and files that belong to another key, as Google does across projects. */
function checkReferences(ctx: Ctx, body: Json, contents: Json[]): GoogleError | null {
  const cacheName = asStr(body.cachedContent);
  if (cacheName) {
    const denied = ownerCheck(
      ctx,
      ctx.st.caches.get(cacheName.replace(/^cachedContents\//, "")),
      gError(403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)"),
    );
    if (denied) return denied;
  }
  for (const content of contents) {
    for (const part of asArr(content.parts)) {
      const uri = asStr(asObj(asObj(part)?.fileData)?.fileUri);
      const id = uri ? /\/files\/([a-z0-9-]+)$/.exec(uri)?.[1] : undefined;
      if (!id) continue;
      const denied = ownerCheck(
        ctx,
        ctx.st.files.get(id),
        gError(
          403,
          "PERMISSION_DENIED",
          `You do not have permission to access the File ${id} or it may not exist.`,
        ),
      );
      if (denied) return denied;
    }
  }
  return null;
}

function usageMetadata(prompt: number, candidates: number, cached: number, thoughts = 0): Json {
  const usage: Json = {};
  if (prompt) usage.promptTokenCount = prompt;
  if (candidates) usage.candidatesTokenCount = candidates;
  if (prompt + candidates + thoughts) usage.totalTokenCount = prompt + candidates + thoughts;
  if (cached) usage.cachedContentTokenCount = cached;
  if (thoughts) usage.thoughtsTokenCount = thoughts;
  if (prompt) usage.promptTokensDetails = [{ modality: "TEXT", tokenCount: prompt }];
  if (cached) usage.cacheTokensDetails = [{ modality: "TEXT", tokenCount: cached }];
  return usage;
}

/** One GenerateContentResponse carrying the text and cumulative usage so far. */
export function generateResponse(
  plan: Plan,
  text: string,
  sentWords: number,
  finish: boolean,
): Json {
  const candidate: Json = { content: { parts: [{ text }], role: "model" } };
  if (finish) candidate.finishReason = plan.finishReason;
  candidate.index = 0;
  return {
    candidates: [candidate],
    usageMetadata: usageMetadata(
      plan.promptTokens,
      sentWords,
      plan.cachedTokens,
      plan.thoughtsTokens,
    ),
    modelVersion: plan.modelVersion,
    responseId: plan.responseId,
  };
}

/** Splits the reply into `count` chunk texts; trailing chunks may be empty, as Google's are. */
function splitReply(plan: Plan, count: number): { text: string; words: number }[] {
  const chunks: { text: string; words: number }[] = [];
  const total = plan.words.length;
  for (let i = 0; i < count; i++) {
    const from = Math.ceil((i * total) / count);
    const to = Math.ceil(((i + 1) * total) / count);
    chunks.push({ text: plan.words.slice(from, to).join(""), words: to });
  }
  return chunks;
}

/** Top-level fields of GenerateContentRequest, in both spellings proto3 JSON accepts. */
const GENERATE_FIELDS = new Set(
  [
    "model",
    "contents",
    "systemInstruction",
    "generationConfig",
    "safetySettings",
    "tools",
    "toolConfig",
    "cachedContent",
    "labels",
    "serviceTier",
    "store",
    "continuationToken",
  ].flatMap((name) => [name, name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]),
);

/** Google's answer to a field it does not know: the name is echoed back, quoted. */
function unknownFieldError(body: Json): GoogleError | null {
  const unknown = Object.keys(body).find((name) => !GENERATE_FIELDS.has(name));
  if (unknown === undefined) return null;
  return badRequest(
    `Invalid JSON payload received. Unknown name ${JSON.stringify(unknown)}: Cannot find field.`,
  );
}

/** generateContent and streamGenerateContent (SSE or JSON array), cuts included. */
export function generate(ctx: Ctx, model: string, body: Json, stream: boolean): Reply {
  const unknown = unknownFieldError(body);
  if (unknown) return errorReply(ctx, unknown);
  const plan = planGeneration(ctx, model, body);
  if ("code" in plan) return errorReply(ctx, plan);
  if (!stream) {
    const text = plan.words.join("");
    return jsonReply(generateResponse(plan, text, plan.words.length, true));
  }
  const parts = splitReply(plan, ctx.st.streamChunks);
  const objects = parts.map((part, i) =>
    generateResponse(plan, part.text, part.words, i === parts.length - 1)
  );
  const cut = ctx.cut;
  const sent = cut ? objects.slice(0, Math.max(0, cut.afterChunks)) : objects;
  const cutError = cut?.error
    ? failureError(
      cut.error === 429 ? { kind: "quota", scope: "minute" } : { kind: "status", code: 503 },
      model,
      "GenerativeService.StreamGenerateContent",
    )
    : undefined;
  const st = ctx.st;
  if (ctx.sse) {
    const pieces = sent.map((o) => `data: ${oneLine(o)}\r\n\r\n`);
    const tail = cutError ? pretty({ error: cutError }) : "";
    return {
      status: 200,
      contentType: SSE_TYPE,
      chunks: (signal) => paced(st, signal, pieces, tail),
    };
  }
  const pieces = sent.map((o, i) => `${i === 0 ? "[" : "\n,\r\n"}${JSON.stringify(o, null, 2)}`);
  let tail = "\n]";
  if (cut) {
    // In the JSON-array form the error rides as one more element; a cut without error leaves
    // the array unterminated, which is what a dropped connection looks like to a parser.
    const sep = sent.length === 0 ? "[" : "\n,\r\n";
    tail = cutError ? `${sep}${JSON.stringify({ error: cutError }, null, 2)}\n]` : "";
  }
  return {
    status: 200,
    contentType: JSON_TYPE,
    chunks: (signal) => paced(st, signal, pieces, tail),
  };
}

/** countTokens: the word count of the prompt. */
export function countTokens(ctx: Ctx, body: Json): Reply {
  const gcr = asObj(body.generateContentRequest);
  if (gcr && body.contents !== undefined) {
    return errorReply(
      ctx,
      badRequest("contents and generate_content_request cannot both be set."),
    );
  }
  const source = gcr ?? body;
  const system = asObj(source.systemInstruction);
  const text = [
    system ? partsText(system) : "",
    ...asArr(source.contents).map((c) => partsText(asObj(c) ?? {})),
  ].join(" ");
  const total = countFakeTokens(text);
  const result: Json = {};
  if (total) {
    result.totalTokens = total;
    result.promptTokensDetails = [{ modality: "TEXT", tokenCount: total }];
  }
  return jsonReply(result);
}
