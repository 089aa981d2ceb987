import { assertEquals } from "../../tests/support/assert.ts";
import { createInFlight } from "./in_flight.ts";

Deno.test("in flight: settled resolves at once when nothing is open", async () => {
  const inFlight = createInFlight();
  await inFlight.settled();
  assertEquals(inFlight.count, 0);
});

Deno.test("in flight: settled waits for the last open record, not the first", async () => {
  const inFlight = createInFlight();
  inFlight.begin();
  inFlight.begin();
  let done = false;
  const settled = inFlight.settled().then(() => done = true);
  inFlight.end();
  await Promise.resolve();
  assertEquals([done, inFlight.count], [false, 1]);
  inFlight.end();
  await settled;
  assertEquals([done, inFlight.count], [true, 0]);
  inFlight.end();
  assertEquals(inFlight.count, 0, "an extra end never goes below zero");
});
