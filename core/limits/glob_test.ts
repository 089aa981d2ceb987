import { assert, assertEquals } from "../../tests/support/assert.ts";
import { allowsEveryModel, globToRegExp, modelAllowed, PATTERN_SHAPE } from "./glob.ts";

Deno.test("modelAllowed() matches globs on whole model ids", () => {
  const list = ["gemini-2.5-*", "text-embedding-004"];
  assert(modelAllowed(list, "gemini-2.5-flash"));
  assert(modelAllowed(list, "gemini-2.5-pro"));
  assert(modelAllowed(list, "models/gemini-2.5-flash-lite"));
  assert(modelAllowed(list, "text-embedding-004"));
  assert(!modelAllowed(list, "gemini-2.0-flash"));
  assert(!modelAllowed(list, "text-embedding-0045"), "anchored at the end");
  assert(!modelAllowed(list, "xgemini-2.5-flash"), "anchored at the start");
  assert(!modelAllowed([], "gemini-2.5-flash"), "an empty list admits nothing");
});

Deno.test("globToRegExp() treats dots literally and ? as one character", () => {
  assert(!globToRegExp("gemini-2.5-flash").test("gemini-2x5-flash"));
  assert(globToRegExp("gemini-?.5-pro").test("gemini-2.5-pro"));
  assert(!globToRegExp("gemini-?.5-pro").test("gemini-12.5-pro"));
  assert(globToRegExp("*").test("anything/at-all"));
});

Deno.test("allowsEveryModel() is true only for a lone star", () => {
  assertEquals(
    [allowsEveryModel(["*"]), allowsEveryModel(["gemini-*"]), allowsEveryModel(["**", "x"])],
    [true, false, true],
  );
});

Deno.test("PATTERN_SHAPE refuses characters no model id has", () => {
  assert(PATTERN_SHAPE.test("tunedModels/my-model-1"));
  assert(!PATTERN_SHAPE.test("gemini 2.5"));
  assert(!PATTERN_SHAPE.test("gemini-(2.5)"));
});
