/**
 * Stored resources besides files: cachedContents, batches (finished at once) and interactions,
 * each visible only to the key that created it.
 * @module
 */

import { badRequest, errorReply, gError, modelNotFound, notFound, ownerCheck } from "./errors.ts";
import { generateResponse, partsText, planGeneration } from "./generate.ts";
import { countFakeTokens, findModel } from "./models.ts";
import { type Ctx, type Json, type Reply, SSE_TYPE } from "./state.ts";
import { asArr, asObj, asStr, now, randomId, stripModelPrefix } from "./util.ts";
import { jsonReply, paced, parseObject } from "./wire.ts";

function ttlSeconds(value: unknown, fallback: number): number {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(asStr(value) ?? "");
  return m ? Number(m[1]) : fallback;
}

/** cachedContents.create. */
export function createCache(ctx: Ctx): Reply {
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const body = parsed.value;
  const modelName = asStr(body.model);
  if (!modelName) {
    return errorReply(
      ctx,
      badRequest("* CreateCachedContentRequest.cached_content.model: model is not specified\n"),
    );
  }
  const model = findModel(stripModelPrefix(modelName));
  if (!model?.methods.includes("createCachedContent")) {
    return errorReply(
      ctx,
      modelNotFound(stripModelPrefix(modelName), "v1beta", "createCachedContent"),
    );
  }
  const system = asObj(body.systemInstruction);
  const tokens = countFakeTokens(
    [system ? partsText(system) : "", ...asArr(body.contents).map((c) => partsText(asObj(c) ?? {}))]
      .join(" "),
  );
  const id = randomId(16);
  const created = now();
  const expire = asStr(body.expireTime) ??
    new Date(Date.now() + ttlSeconds(body.ttl, 3600) * 1000).toISOString();
  const resource: Json = { name: `cachedContents/${id}`, model: `models/${model.id}` };
  if (asStr(body.displayName)) resource.displayName = body.displayName;
  Object.assign(resource, {
    createTime: created,
    updateTime: created,
    expireTime: expire,
    usageMetadata: { totalTokenCount: tokens },
  });
  ctx.st.caches.set(id, { owner: ctx.key, resource });
  return jsonReply(resource);
}

/** cachedContents get, delete and patch. */
export function cacheItem(ctx: Ctx, id: string): Reply {
  const entry = ctx.st.caches.get(id);
  const denied = ownerCheck(
    ctx,
    entry,
    gError(403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)"),
  );
  if (denied || !entry) return errorReply(ctx, denied ?? notFound());
  switch (ctx.req.method) {
    case "GET":
      return jsonReply(entry.resource);
    case "DELETE":
      ctx.st.caches.delete(id);
      return jsonReply({});
    case "PATCH": {
      const parsed = parseObject(ctx);
      if (!parsed.ok) return errorReply(ctx, parsed.error);
      const expire = asStr(parsed.value.expireTime) ??
        new Date(Date.now() + ttlSeconds(parsed.value.ttl, 3600) * 1000).toISOString();
      Object.assign(entry.resource, { updateTime: now(), expireTime: expire });
      return jsonReply(entry.resource);
    }
    default:
      return errorReply(ctx, notFound());
  }
}

/** batchGenerateContent: the batch is stored already finished. */
export function createBatch(ctx: Ctx, model: string, body: Json): Reply {
  const batch = asObj(body.batch);
  if (!batch) {
    return errorReply(
      ctx,
      badRequest("* BatchGenerateContentRequest.batch: batch is not specified\n"),
    );
  }
  const inlined = asArr(asObj(asObj(asObj(batch.inputConfig)?.requests))?.requests)
    .map((r) => asObj(r) ?? {});
  const id = randomId(16);
  const created = now();
  const responses = inlined.map((item) => {
    const plan = planGeneration(ctx, model, asObj(item.request) ?? {});
    const out: Json = "code" in plan
      ? { error: { code: plan.code, message: plan.message } }
      : { response: generateResponse(plan, plan.words.join(""), plan.words.length, true) };
    if (item.metadata !== undefined) out.metadata = item.metadata;
    return out;
  });
  const metadata: Json = {
    "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
    model: `models/${model}`,
    displayName: asStr(batch.displayName) ?? "",
    createTime: created,
    updateTime: created,
    batchStats: {
      requestCount: String(inlined.length),
      pendingRequestCount: String(inlined.length),
    },
    state: "BATCH_STATE_PENDING",
    name: `batches/${id}`,
  };
  const operation: Json = { name: `batches/${id}`, metadata };
  // The stored copy is what later GETs see: the fake finishes batches instantly.
  const finished: Json = {
    name: `batches/${id}`,
    metadata: {
      ...metadata,
      state: "BATCH_STATE_SUCCEEDED",
      endTime: created,
      batchStats: {
        requestCount: String(inlined.length),
        successfulRequestCount: String(inlined.length),
      },
      output: { inlinedResponses: { inlinedResponses: responses } },
    },
    done: true,
    response: {
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
      inlinedResponses: { inlinedResponses: responses },
    },
  };
  ctx.st.batches.set(id, { owner: ctx.key, resource: finished });
  return jsonReply(operation);
}

/** batches get, cancel and delete. */
export function batchItem(ctx: Ctx, id: string, cancel: boolean): Reply {
  const entry = ctx.st.batches.get(id);
  const denied = ownerCheck(ctx, entry, notFound("Requested entity was not found."));
  if (denied || !entry) return errorReply(ctx, denied ?? notFound());
  if (cancel && ctx.req.method === "POST") {
    const metadata = asObj(entry.resource.metadata) ?? {};
    metadata.state = "BATCH_STATE_CANCELLED";
    return jsonReply({});
  }
  if (ctx.req.method === "GET") return jsonReply(entry.resource);
  if (ctx.req.method === "DELETE") {
    ctx.st.batches.delete(id);
    return jsonReply({});
  }
  return errorReply(ctx, notFound());
}

/** Whether an interactions request asks for a stream. */
export function wantsInteractionStream(req: Request, body: unknown): boolean {
  return (req.headers.get("accept") ?? "").includes("text/event-stream") ||
    asObj(body)?.stream === true;
}

/** interactions.create: an echo, streamed as events when asked. */
export function interaction(ctx: Ctx): Reply {
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const body = parsed.value;
  const model = stripModelPrefix(asStr(body.model) ?? "gemini-2.5-flash");
  const input = typeof body.input === "string"
    ? body.input
    : asArr(body.input).map((c) => partsText(asObj(c) ?? {})).join(" ");
  const text = `Echo: ${input}`;
  const inTokens = countFakeTokens(input);
  const outTokens = countFakeTokens(text);
  const created = now();
  const id = `v1_${randomId(24)}`;
  const result: Json = {
    id,
    model,
    object: "interaction",
    status: "completed",
    created,
    updated: created,
    role: "model",
    outputs: [{ type: "text", text }],
    usage: {
      total_input_tokens: inTokens,
      total_output_tokens: outTokens,
      total_tokens: inTokens + outTokens,
    },
  };
  ctx.st.interactions.set(id, { owner: ctx.key, resource: result });
  if (!wantsInteractionStream(ctx.req, body)) return jsonReply(result);
  const words = text.match(/\s*\S+/g) ?? [text];
  const events = [
    { event_type: "interaction.start", interaction: { id: result.id, status: "in_progress" } },
    ...words.map((w) => ({
      event_type: "content.delta",
      index: 0,
      delta: { type: "text", text: w },
    })),
    { event_type: "interaction.complete", interaction: result },
  ];
  const pieces = events.map((e) => `data: ${JSON.stringify(e)}\n\n`);
  const st = ctx.st;
  return { status: 200, contentType: SSE_TYPE, chunks: (signal) => paced(st, signal, pieces) };
}
