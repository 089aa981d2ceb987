import { assertEquals } from "../../tests/assert.ts";
import { createLoginThrottle } from "./login_throttle.ts";

Deno.test("createLoginThrottle() allows 5 attempts a minute per address, then says when to retry", () => {
  const clock = { now: 0 };
  const throttle = createLoginThrottle({ now: () => clock.now });
  for (let i = 0; i < 5; i++) {
    clock.now += 1000;
    assertEquals(throttle.attempt("203.0.113.7"), { ok: true });
  }
  assertEquals(throttle.attempt("203.0.113.7"), { ok: false, retryAt: 61_000 });
  assertEquals(throttle.attempt("198.51.100.1"), { ok: true }, "other addresses are not affected");
  clock.now = 60_999;
  assertEquals(throttle.attempt("203.0.113.7").ok, false);
  clock.now = 61_000;
  assertEquals(throttle.attempt("203.0.113.7"), { ok: true }, "the oldest attempt left the window");
});

Deno.test("loginThrottle.reset() forgets an address after a successful login", () => {
  const throttle = createLoginThrottle({ now: () => 0, limit: 2 });
  throttle.attempt("a");
  throttle.attempt("a");
  assertEquals(throttle.attempt("a").ok, false);
  throttle.reset("a");
  assertEquals(throttle.attempt("a").ok, true);
});

Deno.test("createLoginThrottle() forgets the oldest addresses beyond its bound", () => {
  const throttle = createLoginThrottle({ now: () => 0, limit: 1, maxAddresses: 2 });
  throttle.attempt("a");
  throttle.attempt("b");
  throttle.attempt("c");
  assertEquals(throttle.attempt("a").ok, true, "a was forgotten");
  assertEquals(throttle.attempt("c").ok, false);
});
