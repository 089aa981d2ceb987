/**
 * The OpenAI-compatible endpoints under /v1beta/openai/: models, chat completions (streamed with
 * or without usage), embeddings and images. Errors come wrapped in a JSON array, as Google's do.
 * @module
 */

import { errorReply, failureError, gError, modelNotFound, notFound } from "./errors.ts";
import { countFakeTokens, fakeEmbedding, findModel, MODELS } from "./models.ts";
import { type Ctx, type GoogleError, type Json, type Reply, SSE_TYPE, TINY_PNG } from "./state.ts";
import { asArr, asObj, asStr, randomId, stripModelPrefix } from "./util.ts";
import { paced, parseObject, pretty } from "./wire.ts";

/** Routes the OpenAI-compatible endpoints under /v1beta/openai/. */
export function serveOpenAi(ctx: Ctx, rest: string): Reply {
  const { req } = ctx;
  if (req.method === "GET" && rest === "models") {
    return openAiJson({
      object: "list",
      data: MODELS.map((m) => ({ id: `models/${m.id}`, object: "model", owned_by: "google" })),
    });
  }
  const one = /^models\/(.+)$/.exec(rest);
  if (req.method === "GET" && one) {
    const id = stripModelPrefix(one[1] ?? "");
    if (!findModel(id)) return errorReply(ctx, modelNotFound(id, "v1beta", "get"));
    return openAiJson({ id: `models/${id}`, object: "model", owned_by: "google" });
  }
  if (req.method !== "POST") return errorReply(ctx, notFound());
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, gError(400, "INVALID_ARGUMENT", parsed.error.message));
  const body = parsed.value;
  switch (rest) {
    case "chat/completions":
      return openAiChat(ctx, body);
    case "embeddings":
      return openAiEmbeddings(ctx, body);
    case "images/generations": {
      const n = Number(body.n) || 1;
      return openAiJson({
        created: Math.floor(Date.now() / 1000),
        data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG })),
      });
    }
    default:
      return errorReply(ctx, notFound());
  }
}

function openAiJson(value: unknown): Reply {
  return { status: 200, contentType: "application/json", body: JSON.stringify(value) };
}

function openAiModel(body: Json, capability: string): string | GoogleError {
  const raw = asStr(body.model);
  if (!raw) return gError(400, "INVALID_ARGUMENT", "model is not specified");
  const id = stripModelPrefix(raw);
  if (!findModel(id)?.methods.includes(capability)) return modelNotFound(id, "v1main", capability);
  return id;
}

function messageText(message: Json): string {
  const content = message.content;
  if (typeof content === "string") return content;
  return asArr(content)
    .map((p) => asObj(p))
    .filter((p) => p?.type === "text")
    .map((p) => asStr(p?.text) ?? "")
    .join(" ");
}

function openAiChat(ctx: Ctx, body: Json): Reply {
  const model = openAiModel(body, "generateContent");
  if (typeof model !== "string") return errorReply(ctx, model);
  const messages = asArr(body.messages).map((m) => asObj(m) ?? {});
  if (messages.length === 0) {
    return errorReply(ctx, gError(400, "INVALID_ARGUMENT", "messages must not be empty"));
  }
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const reply = `Echo: ${lastUser ? messageText(lastUser) : ""}`;
  const prompt = countFakeTokens(messages.map(messageText).join(" "));
  const completion = countFakeTokens(reply);
  const usage = {
    completion_tokens: completion,
    prompt_tokens: prompt,
    total_tokens: prompt + completion,
  };
  const id = randomId(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  const created = Math.floor(Date.now() / 1000);
  if (body.stream !== true) {
    return openAiJson({
      choices: [{
        finish_reason: "stop",
        index: 0,
        message: { content: reply, role: "assistant" },
      }],
      created,
      id,
      model,
      object: "chat.completion",
      usage,
    });
  }
  return openAiStream(ctx, body, { reply, usage, id, created, model });
}

/** What every chunk of a streamed chat completion shares. */
interface ChatAnswer {
  reply: string;
  usage: { completion_tokens: number; prompt_tokens: number; total_tokens: number };
  id: string;
  created: number;
  model: string;
}

/** A streamed chat completion: `streamChunks` chunks, usage as asked, cut where told. */
function openAiStream(ctx: Ctx, body: Json, answer: ChatAnswer): Reply {
  const { reply, usage, id, created, model } = answer;
  const includeUsage = asObj(body.stream_options)?.include_usage === true;
  const words = reply.match(/\s*\S+/g) ?? [reply];
  const count = ctx.st.streamChunks;
  const chunks = Array.from({ length: count }, (_, i) => {
    const text = words.slice(
      Math.ceil((i * words.length) / count),
      Math.ceil(((i + 1) * words.length) / count),
    )
      .join("");
    const last = i === count - 1;
    const choice: Json = { delta: { content: text, role: "assistant" }, index: 0 };
    if (last) choice.finish_reason = "stop";
    const chunk: Json = { choices: [choice], created, id, model, object: "chat.completion.chunk" };
    // As OpenAI does: with include_usage every chunk carries `usage: null`, and the totals come
    // in one more chunk with no choices; without it, no chunk has a usage field.
    if (includeUsage) chunk.usage = null;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  });
  if (includeUsage) {
    const chunk = { choices: [], created, id, model, object: "chat.completion.chunk", usage };
    chunks.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  const cut = ctx.cut;
  const sent = cut ? chunks.slice(0, Math.max(0, cut.afterChunks)) : chunks;
  let tail = "data: [DONE]\n\n";
  if (cut) {
    tail = cut.error
      ? pretty({
        error: failureError(
          cut.error === 429 ? { kind: "quota", scope: "minute" } : { kind: "status", code: 503 },
          model,
          "GenerativeService.StreamGenerateContent",
        ),
      })
      : "";
  }
  const st = ctx.st;
  return { status: 200, contentType: SSE_TYPE, chunks: (signal) => paced(st, signal, sent, tail) };
}

function openAiEmbeddings(ctx: Ctx, body: Json): Reply {
  const model = openAiModel(body, "embedContent");
  if (typeof model !== "string") return errorReply(ctx, model);
  const inputs = typeof body.input === "string" ? [body.input] : asArr(body.input).map(String);
  const dims = Number(body.dimensions) || 8;
  // encoding_format is ignored: floats come back even when the OpenAI SDK asks for base64 (its
  // default), and the SDK accepts float arrays either way.
  const data = inputs.map((text, index) => ({
    object: "embedding",
    index,
    embedding: fakeEmbedding(text, dims),
  }));
  const tokens = countFakeTokens(inputs.join(" "));
  return openAiJson({
    object: "list",
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
