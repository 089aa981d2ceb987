/**
 * The models the fake serves, and the deterministic token counts and embeddings of its answers.
 * @module
 */

import { badRequest, errorReply } from "./errors.ts";
import type { Ctx, Json, Reply } from "./state.ts";
import { pageOf } from "./util.ts";
import { jsonReply } from "./wire.ts";

/** Model ids the fake serves; any other `models/{id}` gets Google's 404. */
export const FAKE_MODEL_IDS: readonly string[] = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-lite",
  "gemini-2.0-flash",
  "gemini-2.0-flash-live-001",
  "gemini-live-2.5-flash-preview",
  "text-embedding-004",
  "gemini-embedding-001",
  "imagen-4.0-generate-001",
  "veo-3.0-generate-001",
];

/**
 * The fake's token count for a text: its number of whitespace-separated words.
 *
 * promptTokenCount is this over every text part of systemInstruction and contents (plus the tokens
 * of a referenced cachedContent); candidatesTokenCount is this over the reply; thoughtsTokenCount
 * is the request's `generationConfig.thinkingConfig.thinkingBudget` when it sets a positive one.
 */
export function countFakeTokens(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}

/**
 * The deterministic embedding the fake returns for `text`: `dimensions` values in [-0.1, 0.1].
 */
export function fakeEmbedding(text: string, dimensions = 8): number[] {
  // FNV-1a seeds an xorshift generator, so equal texts embed equally.
  let seed = 0x811c9dc5;
  for (const ch of text) {
    seed ^= ch.codePointAt(0) ?? 0;
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  const values: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    values.push(Math.round(((seed / 0xffffffff) * 0.2 - 0.1) * 1e6) / 1e6);
  }
  return values;
}

export interface FakeModel {
  id: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  methods: string[];
  thinking?: boolean;
}

export const MODELS: FakeModel[] = [
  chatModel("gemini-2.5-flash", "Gemini 2.5 Flash", true),
  chatModel("gemini-2.5-pro", "Gemini 2.5 Pro", true),
  chatModel("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", true),
  { ...chatModel("gemini-2.0-flash", "Gemini 2.0 Flash", false) },
  liveModel("gemini-2.0-flash-live-001", "Gemini 2.0 Flash Live"),
  liveModel("gemini-live-2.5-flash-preview", "Gemini Live 2.5 Flash Preview"),
  {
    id: "text-embedding-004",
    displayName: "Text Embedding 004",
    description: "Obtain a distributed representation of a text.",
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    methods: ["embedContent"],
  },
  {
    id: "gemini-embedding-001",
    displayName: "Gemini Embedding 001",
    description: "Obtain a distributed representation of a text.",
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    methods: ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
  },
  {
    id: "imagen-4.0-generate-001",
    displayName: "Imagen 4",
    description: "Vertex served Imagen 4.0 model",
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    methods: ["predict"],
  },
  {
    id: "veo-3.0-generate-001",
    displayName: "Veo 3",
    description: "Veo 3",
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    methods: ["predictLongRunning"],
  },
];

function chatModel(id: string, displayName: string, thinking: boolean): FakeModel {
  return {
    id,
    displayName,
    description: `Fake ${displayName} served by the test upstream`,
    inputTokenLimit: 1048576,
    outputTokenLimit: thinking ? 65536 : 8192,
    methods: [
      "generateContent",
      "countTokens",
      "createCachedContent",
      "batchGenerateContent",
    ],
    thinking,
  };
}

function liveModel(id: string, displayName: string): FakeModel {
  return {
    id,
    displayName,
    description: `Fake ${displayName} served by the test upstream`,
    inputTokenLimit: 131072,
    outputTokenLimit: 8192,
    methods: ["bidiGenerateContent"],
  };
}

/** The fake model with this id. */
export function findModel(id: string): FakeModel | undefined {
  return MODELS.find((m) => m.id === id);
}

/** A model as the models endpoints list it. */
export function modelResource(model: FakeModel): Json {
  const resource: Json = {
    name: `models/${model.id}`,
    version: "001",
    displayName: model.displayName,
    description: model.description,
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: model.methods,
  };
  if (model.methods.includes("generateContent")) {
    Object.assign(resource, { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2 });
  }
  if (model.thinking) resource.thinking = true;
  return resource;
}

/** models.list, paginated. */
export function listModels(ctx: Ctx): Reply {
  const page = pageOf(MODELS, ctx.url, 50, 1000);
  if (!page) return errorReply(ctx, badRequest("Invalid page token."));
  const body: Json = { models: page.page.map(modelResource) };
  if (page.next) body.nextPageToken = page.next;
  return jsonReply(body);
}
