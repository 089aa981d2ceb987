/**
 * The native REST API's routes: models and their methods, cachedContents, files, batches,
 * interactions and long-running operations.
 * @module
 */

import { badRequest, errorReply, modelNotFound, notFound, ownerCheck } from "./errors.ts";
import { countTokens, generate, partsText } from "./generate.ts";
import { fakeEmbedding, findModel, listModels, modelResource } from "./models.ts";
import { batchItem, cacheItem, createBatch, createCache, interaction } from "./resources.ts";
import {
  type Ctx,
  type GoogleError,
  type Json,
  type Owned,
  type Reply,
  TINY_PNG,
} from "./state.ts";
import { asArr, asObj, pageOf, randomId } from "./util.ts";
import { jsonReply, parseObject } from "./wire.ts";

/** Routes the native REST API (models, cachedContents, files, batches, interactions). */
export function serveNative(ctx: Ctx): Reply {
  const { req, path } = ctx;
  const m = /^\/(v1|v1beta|v1alpha)\/(.*)$/.exec(path);
  if (!m) return errorReply(ctx, notFound());
  const version = m[1] ?? "v1beta";
  const rest = m[2] ?? "";
  const get = req.method === "GET";

  if (rest === "models" && get) return listModels(ctx);
  let r = /^models\/([^/:]+)$/.exec(rest);
  if (r && get) {
    const model = findModel(r[1] ?? "");
    if (!model) return errorReply(ctx, modelNotFound(r[1] ?? "", version, "get"));
    return jsonReply(modelResource(model));
  }
  r = /^(models|tunedModels)\/([^/:]+):([A-Za-z]+)$/.exec(rest);
  if (r && req.method === "POST") {
    return modelMethod(ctx, {
      version,
      tuned: r[1] === "tunedModels",
      id: r[2] ?? "",
      method: r[3] ?? "",
    });
  }
  r = /^models\/([^/:]+)\/operations\/([^/:]+)$/.exec(rest);
  if (r && get) return jsonReply(videoOperation(r[1] ?? "", r[2] ?? ""));

  if (rest === "cachedContents") {
    if (req.method === "POST") return createCache(ctx);
    if (get) return listOwned(ctx, ctx.st.caches, "cachedContents", 100, 1000);
  }
  r = /^cachedContents\/([^/:]+)$/.exec(rest);
  if (r) return cacheItem(ctx, r[1] ?? "");

  if (rest === "files" && get) return listOwned(ctx, ctx.st.files, "files", 10, 100);
  r = /^files\/([^/:]+)$/.exec(rest);
  if (r && (get || req.method === "DELETE")) {
    const id = r[1] ?? "";
    return getOrDelete(ctx, ctx.st.files, id, notFound(`File files/${id} not found.`));
  }

  if (rest === "batches" && get) return listOwned(ctx, ctx.st.batches, "operations", 50, 1000);
  r = /^batches\/([^/:]+)(:cancel)?$/.exec(rest);
  if (r) return batchItem(ctx, r[1] ?? "", r[2] !== undefined);

  if (rest === "interactions" && req.method === "POST") return interaction(ctx);
  r = /^interactions\/([^/:]+)$/.exec(rest);
  if (r && (get || req.method === "DELETE")) {
    const id = r[1] ?? "";
    return getOrDelete(ctx, ctx.st.interactions, id, notFound("Requested entity was not found."));
  }
  return errorReply(ctx, notFound());
}

/** GET or DELETE of a stored file or interaction, refused to other keys. */
function getOrDelete(
  ctx: Ctx,
  store: Map<string, Owned>,
  id: string,
  missing: GoogleError,
): Reply {
  const entry = store.get(id);
  const denied = ownerCheck(ctx, entry, missing);
  if (denied) return errorReply(ctx, denied);
  if (ctx.req.method === "GET") return jsonReply(entry?.resource);
  store.delete(id);
  return jsonReply({});
}

function listOwned(
  ctx: Ctx,
  store: Map<string, Owned>,
  field: string,
  defaultSize: number,
  maxSize: number,
): Reply {
  const own = [...store.values()].filter((e) => e.owner === ctx.key).map((e) => e.resource);
  const page = pageOf(own, ctx.url, defaultSize, maxSize);
  if (!page) return errorReply(ctx, badRequest("Invalid page token."));
  const body: Json = {};
  if (page.page.length > 0) body[field] = page.page;
  if (page.next) body.nextPageToken = page.next;
  return jsonReply(body);
}

/** A call of a model's method: `models/{id}:{method}` or `tunedModels/{id}:{method}`. */
interface MethodCall {
  version: string;
  tuned: boolean;
  id: string;
  method: string;
}

/** What each method needs the model to support. */
const NEEDS: Record<string, string> = {
  generateContent: "generateContent",
  streamGenerateContent: "generateContent",
  countTokens: "countTokens",
  embedContent: "embedContent",
  batchEmbedContents: "embedContent",
  batchGenerateContent: "batchGenerateContent",
  predict: "predict",
  predictLongRunning: "predictLongRunning",
};

function modelMethod(ctx: Ctx, call: MethodCall): Reply {
  const { version, tuned, id, method } = call;
  const capability = NEEDS[method];
  if (!capability) return errorReply(ctx, notFound());
  const model = tuned ? undefined : findModel(id);
  const supported = tuned
    ? ["generateContent", "countTokens"].includes(capability)
    : model?.methods.includes(capability);
  if (!supported) return errorReply(ctx, modelNotFound(id, version, method));
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const body = parsed.value;
  const modelName = tuned ? `tunedModels/${id}` : id;
  return callMethod(ctx, method, { id, modelName, body });
}

/** Answers a supported method of a model, its body parsed. */
function callMethod(
  ctx: Ctx,
  method: string,
  target: { id: string; modelName: string; body: Json },
): Reply {
  const { id, modelName, body } = target;
  switch (method) {
    case "generateContent":
    case "streamGenerateContent":
      return generate(ctx, modelName, body, method === "streamGenerateContent");
    case "countTokens":
      return countTokens(ctx, body);
    case "embedContent": {
      const content = asObj(body.content);
      if (!content) {
        return errorReply(
          ctx,
          badRequest("* EmbedContentRequest.content: content is not specified\n"),
        );
      }
      const dims = Number(body.outputDimensionality) || 8;
      return jsonReply({ embedding: { values: fakeEmbedding(partsText(content), dims) } });
    }
    case "batchEmbedContents": {
      const requests = asArr(body.requests);
      if (requests.length === 0) {
        return errorReply(
          ctx,
          badRequest("* BatchEmbedContentsRequest.requests: requests is not specified\n"),
        );
      }
      const embeddings = requests.map((r) => {
        const request = asObj(r) ?? {};
        const dims = Number(request.outputDimensionality) || 8;
        return { values: fakeEmbedding(partsText(asObj(request.content) ?? {}), dims) };
      });
      return jsonReply({ embeddings });
    }
    case "batchGenerateContent":
      return createBatch(ctx, modelName, body);
    case "predict": {
      const count = Number(asObj(body.parameters)?.sampleCount) || 1;
      const predictions = Array.from(
        { length: count },
        () => ({ bytesBase64Encoded: TINY_PNG, mimeType: "image/png" }),
      );
      return jsonReply({ predictions });
    }
    default:
      return jsonReply({ name: `models/${id}/operations/${randomId(12)}` });
  }
}

function videoOperation(model: string, id: string): Json {
  return {
    name: `models/${model}/operations/${id}`,
    done: true,
    response: {
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
      generateVideoResponse: {
        generatedSamples: [{ video: { uri: `https://example.invalid/fake-video/${id}.mp4` } }],
      },
    },
  };
}
