/**
 * The key-verdict part of the proxy contract: nothing a client sends changes a key's state, and a
 * pool with no usable key says so in the proxy's own words. Run by every host through
 * {@linkcode runProxyContract}, over real sockets, with the official SDKs.
 * @module
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { assert, assertEquals, assertNotIncludes } from "../assert.ts";
import { type FakeUpstream, startFakeUpstream } from "../fake_upstream/mod.ts";
import type { ProxyTarget, StartTarget } from "./_suite.ts";

const TOKEN = "gp-TEST-verdict-token-0001";
const MODEL = "gemini-2.5-flash";
/** Six obviously fake keys: two hostile requests used to disable all of them. */
const KEYS = Array.from(
  { length: 6 },
  (_, i) => `AIzaFAKE-TEST-key-verdict-${String(i + 1).padStart(13, "0")}`,
);
const INVALID_KEY_TEXT = "API key not valid. Please pass a valid API key.";
const UNREGISTERED =
  "Method doesn't allow unregistered callers (callers without established identity).";

interface Ctx {
  fake: FakeUpstream;
  proxy: ProxyTarget;
  genai: GoogleGenAI;
}

/**
 * Registers the key-verdict contract tests for one target.
 * @param name Target name used in test names.
 * @param start Starts the target.
 */
export function runVerdictContract(name: string, start: StartTarget): void {
  async function withProxy(keys: string[], fn: (ctx: Ctx) => Promise<void>): Promise<void> {
    const fake = await startFakeUpstream();
    let proxy: ProxyTarget | undefined;
    try {
      proxy = await start({ upstreamUrl: fake.url, keys, tokens: [TOKEN], env: {} });
      const genai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: proxy.url } });
      await fn({ fake, proxy, genai });
      for (const line of proxy.logs) {
        for (const key of keys) assertNotIncludes(line, key, "log line");
      }
    } finally {
      await proxy?.close();
      await fake.close();
    }
  }

  Deno.test(`${name}: client input echoed in Google's 400s and 404s disables no key`, () =>
    withProxy(KEYS, async (ctx) => {
      const hostileFields = [INVALID_KEY_TEXT, `x ${UNREGISTERED}`];
      for (const field of hostileFields) {
        const ai = new GoogleGenAI({
          apiKey: TOKEN,
          httpOptions: { baseUrl: ctx.proxy.url, extraBody: { [field]: 1 } },
        });
        const error = await rejection(ai.models.generateContent({ model: MODEL, contents: "hi" }));
        assertEquals(error.status, 400);
        assert(error.message.includes(`Unknown name`), error.message);
      }
      const missing = await rejection(
        ctx.genai.models.generateContent({ model: "reported-as-leaked", contents: "hi" }),
      );
      assertEquals(missing.status, 404);
      assertEquals(ctx.fake.requests.length, 3, "each hostile request reached upstream once");
      assertEquals(await enabledKeys(ctx), KEYS.length);
      const after = await ctx.genai.models.generateContent({ model: MODEL, contents: "still ok" });
      assertEquals(after.text, "Echo: still ok");
    }));

  Deno.test(`${name}: with every key dead the client gets 503 NO_USABLE_KEY, never Google's key text`, () =>
    withProxy(KEYS.slice(0, 3), async (ctx) => {
      ctx.fake.failAll({ kind: "invalid_key" });
      const error = await rejection(
        ctx.genai.models.generateContent({ model: MODEL, contents: "x" }),
      );
      assertEquals(error.status, 503);
      assertNotIncludes(error.message, "API key not valid", "SDK error");
      assertEquals(ctx.fake.requests.length, 3, "each key was tried once");
      assertEquals(await enabledKeys(ctx), 0);

      const raw = await fetch(`${ctx.proxy.url}/v1beta/models/${MODEL}:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "again" }] }] }),
      });
      const text = await raw.text();
      assertEquals(raw.status, 503, text);
      assertNotIncludes(text, "API key not valid", "proxy answer");
      const body = JSON.parse(text);
      assertEquals(body.error.status, "UNAVAILABLE");
      const info = body.error.details.find((d: { "@type": string }) =>
        d["@type"].endsWith("google.rpc.ErrorInfo")
      );
      assertEquals([info.reason, info.domain], ["NO_USABLE_KEY", "gemini-proxy"]);
      assertEquals(info.metadata.disabled, "3");
      assertEquals(info.metadata.cooling, "0");
      assertEquals(ctx.fake.requests.length, 3, "no upstream call once no key is usable");

      const openai = new OpenAI({
        apiKey: TOKEN,
        baseURL: `${ctx.proxy.url}/v1beta/openai/`,
        maxRetries: 0,
      });
      const chat = await rejection(
        openai.chat.completions.create({
          model: MODEL,
          messages: [{ role: "user", content: "x" }],
        }),
      );
      assertEquals(chat.status, 503);
    }));
}

/** The status and message of a rejected SDK call. */
async function rejection(call: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, message: error.message };
    if (error instanceof OpenAI.APIError) {
      return { status: error.status ?? 0, message: error.message };
    }
    throw error;
  }
  throw new Error("the call succeeded");
}

/** Enabled keys as the proxy reports them on /healthz. */
async function enabledKeys(ctx: Ctx): Promise<number> {
  const health = await fetch(`${ctx.proxy.url}/healthz`);
  return (await health.json()).keys.enabled;
}
