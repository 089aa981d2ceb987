import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { testToken as token } from "../../tests/support/token_record.ts";
import { HttpError } from "../errors.ts";
import { createLogger } from "../logs/logger.ts";
import { createMemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/mod.ts";
import type { Usage } from "../usage/usage.ts";
import { createLeaseLedger } from "./lease_ledger.ts";
import { createTokenQuota } from "./token_quota.ts";

const AT = Date.parse("2026-01-15T20:00:00Z");

function usage(prompt: number, candidates: number, thoughts = 0): Usage {
  return { prompt, candidates, thoughts, cached: 0, toolUse: 7, total: 0 };
}

/** A memory store that records which methods were called. */
function spiedStore(): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const inner = createMemoryStore({ now: () => AT });
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

function gate(store: Store, clock = { now: AT }) {
  const logger = createLogger({ sink: () => {} });
  const now = () => clock.now;
  return createTokenQuota({
    store,
    ledger: createLeaseLedger({ store, now, logger }),
    now,
    logger,
  });
}

async function refusal(promise: unknown): Promise<HttpError> {
  const error = await assertRejects(() => promise);
  assert(error instanceof HttpError, String(error));
  return error;
}

Deno.test("admit() never calls the store for a token without limits; sync() writes its counts", async () => {
  const { store, calls } = spiedStore();
  const quota = gate(store);
  const unlimited = token();
  for (let i = 0; i < 5; i++) await quota.admit(unlimited, { model: "m", kind: "native" });
  quota.charge(unlimited, usage(10, 20, 5));
  assertEquals(calls, []);
  await quota.sync();
  assertEquals(calls, ["addTokenUsage"]);
  const counted = await store.readTokenUsage("t1", AT);
  assertEquals([counted.dayRequests, counted.dayTokens], [5, 35], "prompt + candidates + thoughts");
});

Deno.test("sync() called while a write is on its way also writes what was counted after that write began", async () => {
  const inner = createMemoryStore({ now: () => AT });
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  let writes = 0;
  const store: Store = {
    ...inner,
    async addTokenUsage(batch) {
      // The first write is held open, as a slow store holds a timer's sync.
      if (writes++ === 0) await held;
      return inner.addTokenUsage(batch);
    },
  };
  const quota = gate(store);
  const unlimited = token();
  await quota.admit(unlimited, { model: "m", kind: "native" });
  const timer = quota.sync();
  quota.charge(unlimited, usage(10, 20, 5));
  let synced = false;
  const asked = quota.sync().then(() => synced = true);
  await Promise.resolve();
  assertEquals(synced, false);
  release();
  await Promise.all([timer, asked]);
  assertEquals(writes, 2, "the charge counted meanwhile goes in a second write");
  const counted = await store.readTokenUsage("t1", AT);
  assertEquals([counted.dayRequests, counted.dayTokens], [1, 35]);
});

Deno.test("admit() refuses a model outside the allow-list, naming it, with no store call", async () => {
  const { store, calls } = spiedStore();
  const quota = gate(store);
  const limited = token({ models: ["gemini-2.5-*"], limits: { rpm: 1 } });
  const error = await refusal(quota.admit(limited, { model: "gemini-2.0-flash", kind: "native" }));
  assertEquals([error.code, error.status], [403, "PERMISSION_DENIED"]);
  assertEquals(error.message, 'Proxy token "app" may not use model "gemini-2.0-flash"');
  assertEquals(calls, []);
  await quota.admit(limited, { model: null, kind: "native" });
  const live = await refusal(quota.admit(limited, { model: null, kind: "live" }));
  assertEquals(live.code, 403);
  await quota.admit(token({ models: ["*"] }), { model: null, kind: "live" });
});

Deno.test("admit() answers 429 with Retry-After and RetryInfo over a request limit", async () => {
  const store = createMemoryStore({ now: () => AT });
  const clock = { now: AT + 15_000 };
  const quota = gate(store, clock);
  const limited = token({ limits: { rpm: 2 } });
  await quota.admit(limited, { model: "m", kind: "native" });
  await quota.admit(limited, { model: "m", kind: "native" });
  await quota.admit(limited, { model: null, kind: "upload_chunk" });
  const error = await refusal(quota.admit(limited, { model: "m", kind: "native" }));
  assertEquals([error.code, error.status, error.headers["retry-after"]], [
    429,
    "RESOURCE_EXHAUSTED",
    "45",
  ]);
  assertEquals(
    error.message,
    'Proxy token "app" reached its limit of 2 requests per minute: retry in 45s',
  );
  const types = error.details.map((d) => d["@type"].split(".").at(-1));
  assertEquals(types, ["ErrorInfo", "QuotaFailure", "RetryInfo"]);
  assertEquals(error.details[2]?.retryDelay, "45s");
});

Deno.test("admit() reserves a request's estimate under tpd and settles it to the real usage", async () => {
  const store = createMemoryStore({ now: () => AT });
  const quota = gate(store);
  const limited = token({ limits: { tpd: 100 } });
  const request = (estimate: number) => ({
    model: "m",
    kind: "native" as const,
    estimate: () => estimate,
  });
  const first = await quota.admit(limited, request(60));
  // 60 of 100 reserved: a request that may use 50 does not fit while the first is in flight.
  const error = await refusal(quota.admit(limited, request(50)));
  assertEquals([error.code, error.details[0]?.reason], [429, "TOKEN_TPD_EXCEEDED"]);
  assertEquals(
    error.message,
    'Proxy token "app" reached its limit of 100 tokens per day (this request may use up to 50 tokens): retry in 43200s',
  );
  first.settle(usage(20, 10));
  const second = await quota.admit(limited, request(50));
  second.settle(usage(40, 40));
  // 30 + 80 = 110 spent: the second request's estimation error took the day past 100.
  const refused = await refusal(quota.admit(limited, request(1)));
  assertEquals(refused.details[0]?.reason, "TOKEN_TPD_EXCEEDED");
});

Deno.test("settle() keeps a served request's tpd reservation when it never reported usage", async () => {
  const store = createMemoryStore({ now: () => AT });
  const quota = gate(store);
  const limited = token({ limits: { tpd: 100 } });
  const request = (estimate: number) => ({
    model: "m",
    kind: "native" as const,
    estimate: () => estimate,
  });
  // A stream cut short before its usage: the 60 reserved stay spent.
  (await quota.admit(limited, request(60))).settle(null, { usageUnknown: true });
  const refused = await refusal(quota.admit(limited, request(50)));
  assertEquals(refused.details[0]?.reason, "TOKEN_TPD_EXCEEDED");
  // A request that failed used nothing: its reservation comes back.
  (await quota.admit(limited, request(40))).settle(null);
  (await quota.admit(limited, request(40))).settle(usage(1, 1));
});

Deno.test("admit() never reserves more than the whole day: a larger estimate waits for a fresh day", async () => {
  const store = createMemoryStore({ now: () => AT });
  const clock = { now: AT };
  const quota = gate(store, clock);
  const limited = token({ limits: { tpd: 100 } });
  const big = { model: "m", kind: "native" as const, estimate: () => 5000 };
  const admission = await quota.admit(limited, big);
  admission.settle(usage(5, 5));
  await refusal(quota.admit(limited, big));
  clock.now = Date.parse("2026-01-16T08:00:01Z");
  await quota.admit(limited, big);
});

Deno.test("admit() fails closed with 503 when a limited token's counters are unreachable", async () => {
  const store = createMemoryStore({ now: () => AT });
  store.takeLeases = () => Promise.reject(new Error("down"));
  const quota = gate(store);
  const error = await refusal(
    quota.admit(token({ limits: { rpd: 5 } }), { model: null, kind: "native" }),
  );
  assertEquals([error.code, error.status], [503, "UNAVAILABLE"]);
  await quota.admit(token(), { model: null, kind: "native" });
});

Deno.test("admit() answers a token without limits at once, with no promise; a refusal is still a rejection", async () => {
  const { store } = spiedStore();
  const quota = gate(store);
  const admission = quota.admit(token(), { model: "m", kind: "native" });
  assert(!(admission instanceof Promise), "nothing to await");
  admission.settle(null);
  const chunk = quota.admit(token({ limits: { rpm: 1 } }), { model: "m", kind: "upload_chunk" });
  assert(!(chunk instanceof Promise), "an upload chunk is never counted");
  const refused = quota.admit(token({ models: ["gemini-*"] }), { model: "gpt-4o", kind: "native" });
  assert(refused instanceof Promise, "refused by a rejected promise, not a throw");
  assertEquals((await refusal(refused)).code, 403);
  const limited = quota.admit(token({ limits: { rpm: 5 } }), { model: "m", kind: "native" });
  assert(limited instanceof Promise, "a limited token leases");
  await limited;
});
