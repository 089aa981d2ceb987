import { assertEquals } from "../../tests/support/assert.ts";
import { byCreation } from "./records.ts";

Deno.test("byCreation() orders by creation time, then by id code unit, whatever the letters' case", () => {
  const records = [
    { createdAt: 2, id: "a" },
    { createdAt: 1, id: "b" },
    { createdAt: 1, id: "B" },
    { createdAt: 1, id: "a" },
    { createdAt: 1, id: "\u00e9" },
    { createdAt: 1, id: "Z" },
    { createdAt: 1, id: "a" },
  ];
  const sorted = records.slice().sort(byCreation).map((r) => `${r.createdAt}:${r.id}`);
  // A locale comparison would give a, a, b, B, é, Z for the ties.
  assertEquals(sorted, ["1:B", "1:Z", "1:a", "1:a", "1:b", "1:\u00e9", "2:a"]);
});
