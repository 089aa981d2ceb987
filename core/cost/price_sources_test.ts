import { assert, assertEquals } from "../../tests/support/assert.ts";
import { PRICE_SOURCES, PRICES_TAKEN_ON } from "./price_sources.ts";
import { DEFAULT_PRICES } from "./prices.ts";

Deno.test("every built-in price names its dated sources, and only priced models have any", () => {
  assertEquals(Object.keys(PRICE_SOURCES).sort(), Object.keys(DEFAULT_PRICES).sort());
  for (const [model, sources] of Object.entries(PRICE_SOURCES)) {
    assert(sources.length > 0, model);
    for (const source of sources) {
      assert(/^https:\/\/\S+$/.test(source.url), `${model}: ${source.url}`);
      assert(/^\d{4}-\d{2}-\d{2}$/.test(source.takenOn), `${model}: ${source.takenOn}`);
      assert(source.gives.length > 0 && source.name.length > 0, model);
    }
    const dates = sources.map((s) => s.takenOn);
    assertEquals(dates, [...dates].sort().reverse(), `${model}: newest first`);
  }
});

Deno.test("PRICES_TAKEN_ON is the newest source's day", () => {
  assertEquals(PRICES_TAKEN_ON, "2026-10-07");
  for (const s of Object.values(PRICE_SOURCES).flat()) assert(s.takenOn <= PRICES_TAKEN_ON);
});

Deno.test("the table prices the current Gemini 3 models, at the rates their sources give", () => {
  assertEquals(DEFAULT_PRICES["gemini-3.1-pro-preview"], {
    input: 2,
    output: 12,
    cached: 0.2,
    longContext: { above: 200_000, input: 4, output: 18, cached: 0.4 },
  });
  assertEquals(DEFAULT_PRICES["gemini-3-flash-preview"]?.audioInput, 1);
  assertEquals(
    DEFAULT_PRICES["gemini-3.1-flash-lite-preview"],
    DEFAULT_PRICES["gemini-3.1-flash-lite"],
  );
  // Rates that change on a date (introductory prices) cannot be held: left out, not guessed.
  assertEquals(DEFAULT_PRICES["gemini-3.6-flash"], undefined);
});
