import { assert, assertEquals } from "../../tests/support/assert.ts";
import { createKeyPool } from "../rotation/key_pool.ts";
import type { LogRecord } from "../store/log_record.ts";
import type { LogWriter } from "../logs/log_writer.ts";
import { createMetrics, type MetricsState } from "./metrics.ts";
import { createModelBook } from "../rotation/model_book.ts";
import type { Registry } from "../rotation/registry.ts";

function record(model: string | null, i: number): LogRecord {
  return {
    id: `r${i}`,
    time: 0,
    httpMethod: "POST",
    path: "/v1beta/models/x:generateContent",
    tokenId: "t",
    tokenName: "t",
    model,
    method: "generateContent",
    flavour: "native",
    stream: false,
    status: model === "gemini-2.5-flash" ? 200 : 404,
    errorClass: null,
    attempts: [],
    keyId: "k",
    keyMasked: "k",
    ttfbMs: 5,
    durationMs: 5,
    bytesIn: 1,
    bytesOut: 1,
    usage: { prompt: 1, candidates: 1, thoughts: 0, cached: 0, toolUse: 0, total: 2 },
    finishReason: null,
    truncated: false,
    region: null,
    userAgent: null,
  };
}

function state(): MetricsState {
  const registry = { keys: [], enabledKeys: [] } as unknown as Registry;
  return {
    registry,
    pool: createKeyPool(registry, { now: () => 0, strategy: () => "round_robin" }),
    logs: { depth: 0, countersPending: 0, dropped: 0, written: 0 } as LogWriter,
    now: 0,
    region: undefined,
  };
}

Deno.test("/metrics text stays the same size however many invented models are observed", () => {
  const book = createModelBook();
  book.confirm("gemini-2.5-flash");
  const metrics = createMetrics({ modelLabel: book.fold });
  for (let i = 0; i < 100; i++) metrics.observe(record(i % 2 ? "gemini-2.5-flash" : null, i));
  metrics.observe(record("gemini-invented-0", 0));
  const before = metrics.render(state()).split("\n").length;
  for (let i = 1; i < 20_000; i++) metrics.observe(record(`gemini-invented-${i}`, i));
  const text = metrics.render(state());
  assertEquals(text.split("\n").length, before);
  assert(!text.includes("gemini-invented"), "no invented name becomes a label");
  assert(text.includes('model="other"'), "they are counted under other");
  assert(text.includes('model="gemini-2.5-flash"'), "confirmed models keep their label");
});
