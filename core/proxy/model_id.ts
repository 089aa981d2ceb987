/**
 * The grammar of Gemini model ids, checked before a model name reaches any state or key.
 *
 * Google's ids are lowercase letters, digits, dots and hyphens (`gemini-2.5-flash`,
 * `gemini-2.5-flash-preview-05-20`, `imagen-4.0-generate-001`, `gemma-3-27b-it`,
 * `text-embedding-004`); tuned model ids are lowercase letters, digits and hyphens. Underscores
 * are allowed too (resource ids elsewhere in Google's APIs use them). Nothing else is a model.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { ProxyRoute } from "./route.ts";
import { clipped } from "./request_url.ts";

/** Longest model id accepted (Google's longest are under 60 characters). */
export const MAX_MODEL_ID_CHARS = 128;
const MODEL_ID = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Checks a model id.
 * @param id The id, without `models/`.
 * @returns The id.
 * @throws {HttpError} 400 INVALID_ARGUMENT when it is not a Gemini model id.
 */
export function checkModelId(id: string): string {
  if (id.length > MAX_MODEL_ID_CHARS) {
    throw new HttpError(
      400,
      `Model id ${clipped(id)} is ${id.length} characters long; the limit is ${MAX_MODEL_ID_CHARS}`,
      { reason: "MODEL_ID_INVALID" },
    );
  }
  if (!MODEL_ID.test(id) || id.includes("..")) {
    throw new HttpError(
      400,
      `Model id ${
        clipped(id)
      } is not a Gemini model id: use lowercase letters, digits, dots, hyphens and underscores`,
      { reason: "MODEL_ID_INVALID" },
    );
  }
  return id;
}

/**
 * The model named in a request body (`model`, as OpenAI-style and some native bodies carry it),
 * without the `models/` prefix; `tunedModels/` ids keep theirs.
 * @param json The parsed body, when it was JSON.
 * @param kind The route kind: OpenAI bodies must name their model with a string.
 * @returns The id, or null when the body names none.
 * @throws {HttpError} 400 when the model is not a string on an OpenAI route, or not a model id.
 */
export function bodyModel(json: unknown, kind: ProxyRoute["kind"]): string | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  if (!Object.hasOwn(json, "model")) return null;
  const model = (json as { model?: unknown }).model;
  if (typeof model !== "string") {
    if (kind !== "openai") return null;
    throw new HttpError(400, `"model" must be a string, not ${jsonType(model)}`, {
      reason: "MODEL_ID_INVALID",
    });
  }
  if (model.startsWith("tunedModels/")) {
    return `tunedModels/${checkModelId(model.slice("tunedModels/".length))}`;
  }
  return checkModelId(model.replace(/^models\//, ""));
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
