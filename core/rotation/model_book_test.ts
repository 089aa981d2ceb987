import { assertEquals } from "../../tests/support/assert.ts";
import {
  configuredModels,
  CONFIRMED_MODELS_MAX,
  createModelBook,
  OTHER_MODEL,
} from "./model_book.ts";
import type { ActiveKey } from "./registry.ts";
import type { TokenRecord } from "../store/mod.ts";

Deno.test("fold() keeps confirmed names and folds the rest into other", () => {
  const book = createModelBook();
  assertEquals(book.fold("gemini-2.5-flash"), OTHER_MODEL);
  book.confirm("gemini-2.5-flash");
  assertEquals(book.fold("gemini-2.5-flash"), "gemini-2.5-flash");
  assertEquals(book.known("gemini-2.5-flash"), true);
  assertEquals(book.fold("gemini-invented"), OTHER_MODEL);
});

Deno.test("confirm() keeps at most CONFIRMED_MODELS_MAX names", () => {
  const book = createModelBook();
  for (let i = 0; i < 20_000; i++) book.confirm(`gemini-${i}`);
  assertEquals(book.confirmed, CONFIRMED_MODELS_MAX);
  assertEquals(book.fold("gemini-0"), "gemini-0");
  assertEquals(book.fold("gemini-19999"), OTHER_MODEL);
});

Deno.test("configuredModels() names models of limits and allow-lists, not wildcards", () => {
  const key = { record: { limits: { "gemini-2.5-pro": { rpd: 10 } } } } as unknown as ActiveKey;
  const token = { models: ["models/gemini-2.0-flash", "gemini-2.5-*", "*"] } as TokenRecord;
  const sources = {
    limits: { "gemini-2.5-flash": { rpm: 1 }, "*": { rpm: 9 } },
    keys: [key],
    tokens: [token],
  };
  const configured = configuredModels(() => sources);
  assertEquals([...configured()].sort(), [
    "gemini-2.0-flash",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
  ]);
  assertEquals(configured(), configured(), "recomputed only when a source changes");
  const book = createModelBook({ configured });
  assertEquals(book.fold("gemini-2.5-pro"), "gemini-2.5-pro");
  assertEquals(book.fold("gemini-2.5-flash-lite"), OTHER_MODEL);
});
