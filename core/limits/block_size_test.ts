import { assert, assertEquals } from "../../tests/support/assert.ts";
import { decayed, DEFAULT_TUNING, spareUnits } from "./block_size.ts";

Deno.test("spareUnits() covers recent spending far from the cap, and nothing near it", () => {
  const far = { recent: 40, rttMs: 50, cap: 100_000, used: 0 };
  assertEquals(spareUnits(far), 40);
  // A slow store lengthens the horizon: four round trips of 1 s at the same rate.
  assertEquals(spareUnits({ ...far, rttMs: 1000 }), 80);
  // Never more than a sixteenth of what the cap leaves...
  assertEquals(spareUnits({ ...far, cap: 320 }), 20);
  assertEquals(spareUnits({ ...far, cap: 1000, used: 900 }), 6);
  // ...and none once that is under one unit: every unit leased then is for a waiting request.
  assertEquals(spareUnits({ ...far, cap: 10 }), 0);
  assertEquals(spareUnits({ ...far, cap: 1000, used: 990 }), 0);
  assertEquals(spareUnits({ ...far, used: 200_000 }), 0, "over the cap");
  assertEquals(spareUnits({ ...far, recent: 0 }), 0, "idle: nothing spare");
});

Deno.test("decayed() fades with its time constant and settles at rate times the constant", () => {
  const window = DEFAULT_TUNING.rateWindowMs;
  assertEquals(decayed(10, { elapsedMs: 0, added: 1, windowMs: window }), 11);
  assertEquals(Math.round(decayed(100, { elapsedMs: window, added: 0, windowMs: window })), 37);
  // 100 units a second, in 10 ms steps, for 10 s: about 200 over a 2 s constant.
  let value = 0;
  for (let i = 0; i < 1000; i++) {
    value = decayed(value, { elapsedMs: 10, added: 1, windowMs: window });
  }
  assert(value > 195 && value < 205, String(value));
});
