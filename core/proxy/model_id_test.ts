import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { HttpError } from "../errors.ts";
import { bodyModel, checkModelId, MAX_MODEL_ID_CHARS } from "./model_id.ts";

/** Real ids from Google's model list and docs. */
const REAL_IDS = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-preview-05-20",
  "gemini-2.5-flash-lite",
  "gemini-2.0-flash-001",
  "gemini-2.0-flash-live-001",
  "gemini-live-2.5-flash-preview",
  "gemini-embedding-001",
  "text-embedding-004",
  "embedding-001",
  "aqa",
  "imagen-4.0-generate-001",
  "veo-3.0-generate-preview",
  "learnlm-2.0-flash-experimental",
  "gemma-3-27b-it",
  "gemini-exp-1206",
];

Deno.test("checkModelId() accepts Google's real model ids", () => {
  for (const id of REAL_IDS) assertEquals(checkModelId(id), id);
});

Deno.test("checkModelId() refuses what is not a model id, quoting a clipped form", () => {
  for (
    const id of [
      "",
      "Gemini-2.5-flash",
      "gemini 2.5",
      "gemini-\u00fc",
      "gemini\u0000",
      "gemini\n",
      "gemini-\u202e",
      "-gemini",
      ".hidden",
      "a..b",
      "a/b",
      "x".repeat(MAX_MODEL_ID_CHARS + 1),
    ]
  ) {
    const error = assertThrows(() => checkModelId(id), "Model id");
    assertEquals((error as HttpError).code, 400, JSON.stringify(id));
    assertEquals((error as HttpError).status, "INVALID_ARGUMENT");
    assertEquals(error.message.length < 200, true, error.message);
    assertEquals(/[^\x20-\x7e]/.test(error.message), false, error.message);
  }
  assertEquals(checkModelId("x".repeat(MAX_MODEL_ID_CHARS)).length, MAX_MODEL_ID_CHARS);
});

Deno.test("bodyModel() reads OpenAI-style models and refuses non-strings on OpenAI routes", () => {
  assertEquals(bodyModel({ model: "models/gemini-2.5-flash" }, "openai"), "gemini-2.5-flash");
  assertEquals(bodyModel({ model: "gemini-2.5-flash" }, "openai"), "gemini-2.5-flash");
  assertEquals(bodyModel({ model: "tunedModels/my-model-1" }, "openai"), "tunedModels/my-model-1");
  assertEquals(bodyModel({ messages: [] }, "openai"), null);
  assertEquals(bodyModel(undefined, "openai"), null);
  assertEquals(bodyModel([1], "openai"), null);
  for (const model of [123, null, {}, [], true]) {
    const error = assertThrows(() => bodyModel({ model }, "openai"), '"model" must be a string');
    assertEquals((error as HttpError).code, 400);
  }
  assertEquals(bodyModel({ model: 123 }, "native"), null);
  assertThrows(() => bodyModel({ model: "x".repeat(100_000) }, "openai"), "characters long");
  assertThrows(() => bodyModel({ model: "models/\u0000" }, "native"), "not a Gemini model id");
});
