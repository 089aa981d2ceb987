/**
 * Shared helpers of the fake upstream's own tests: keys, a fake per test, SDK clients pointed at
 * it, and a fetch that always reads the body.
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from "./mod.ts";

/** The key most requests carry. */
export const KEY_1 = "AIzaFAKE-TEST-key-000000000000000000001";
/** Another key, for what one key may not see of another. */
export const KEY_2 = "AIzaFAKE-TEST-key-000000000000000000002";
/** The model most requests name. */
export const MODEL = "gemini-2.5-flash";
/** A generateContent body whose echo is "Echo: why is the sky blue". */
export const GEN_BODY = JSON.stringify({
  contents: [{ role: "user", parts: [{ text: "why is the sky blue" }] }],
});

/** Runs `fn` against a fresh fake and closes it afterwards. */
export async function withFake(
  fn: (fake: FakeUpstream) => Promise<void>,
  options?: FakeUpstreamOptions,
): Promise<void> {
  const fake = await startFakeUpstream(options);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

/** Options of {@linkcode call}: the key (default KEY_1, null for none), method, body, headers. */
export interface CallOptions {
  method?: string;
  key?: string | null;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** Fetches from the fake and always reads the body, so no stream leaks. */
export async function call(
  fake: FakeUpstream,
  path: string,
  opts: CallOptions = {},
): Promise<{ res: Response; text: string; json: () => Record<string, unknown> }> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY_1 : opts.key;
  if (key !== null) headers["x-goog-api-key"] = key;
  if (opts.body !== undefined && !headers["content-type"]) {
    headers["content-type"] = "application/json";
  }
  const init: RequestInit = { method: opts.method ?? (opts.body ? "POST" : "GET"), headers };
  if (opts.body !== undefined) init.body = opts.body;
  const res = await fetch(`${fake.url}${path}`, init);
  const text = await res.text();
  return { res, text, json: () => JSON.parse(text) };
}

/** A @google/genai client pointed at the fake. */
export function genai(fake: FakeUpstream, apiKey = KEY_1): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.url } });
}

/** An openai client pointed at the fake's OpenAI-compatible routes, without retries. */
export function openai(fake: FakeUpstream, apiKey = KEY_1): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${fake.url}/v1beta/openai/`, maxRetries: 0 });
}

// deno-lint-ignore no-explicit-any -- error envelopes are checked field by field
type Details = any[];

/** Google's error envelope, as the tests read it. */
export type Envelope = {
  error: { code: number; status: string; message: string; details?: Details };
};

/** The detail of a Google error envelope with the given type (e.g. "ErrorInfo"). */
export function detail(envelope: Envelope, type: string): Record<string, unknown> | undefined {
  return envelope.error.details?.find((d) =>
    d["@type"] === `type.googleapis.com/google.rpc.${type}`
  );
}

/** Asserts that a promise rejects with an error carrying `status`. */
export async function assertRejectsStatus(
  promise: Promise<unknown>,
  status: number,
): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assertEquals((err as { status?: number }).status, status);
    return;
  }
  throw new Error(`expected a ${status} rejection`);
}
