import { assertEquals, assertThrows } from "../tests/support/assert.ts";
import { parseOptions, PHASES } from "./_options.ts";

Deno.test("bench options: every phase by default", () => {
  assertEquals([...parseOptions([]).only], [...PHASES]);
});

Deno.test("bench options: --only=scaling also reports the idle reads", () => {
  assertEquals([...parseOptions(["--only=scaling"]).only].sort(), ["idle_reads", "scaling"]);
  assertEquals([...parseOptions(["--only=main"]).only], ["main"]);
});

Deno.test("bench options: an unknown phase is refused, named", () => {
  assertThrows(() => parseOptions(["--only=scaling,nope"]), 'Unknown phase "nope"');
});
