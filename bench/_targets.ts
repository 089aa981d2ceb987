/**
 * What the benchmark sends, and how each server under test is configured: one place to extend
 * as features land (the production environment of Gemini Proxy above all).
 * @module
 */
import type { LoadRequest } from "./_wrk.ts";

/** Which API surface a row measures. */
export type Route = "native" | "openai";

/** Which server answers. */
export type TargetKind = "direct" | "bare" | "ours" | "portkey";

/** Labels used in the report. */
export const TARGET_LABELS: Record<TargetKind, string> = {
  direct: "upstream direct",
  bare: "bare Deno proxy",
  ours: "Gemini Proxy",
  portkey: "Portkey gateway",
};

/** Model every request names (one the fake serves). */
export const MODEL = "gemini-2.5-flash";

/** Client credential for targets that swap nothing: the fake accepts any key. */
export const CLIENT_KEY = "AIzaFAKE-BENCH-CLIENT-KEY";

/** The proxy token Gemini Proxy is started with. */
export const PROXY_TOKEN = "gp-bench-token-0123456789abcdef";

/** The admin password Gemini Proxy is started with (bench only). */
export const ADMIN_PASSWORD = "gp-bench-admin-password-0001";

/** The bearer token /metrics asks for (bench only). */
export const METRICS_TOKEN = "gp-bench-metrics-token-0001";

/** Fixed so every run's KV store decrypts the same way; not a secret (bench only). */
const BENCH_SECRET_KEY = "bench-secret-key-not-for-production-0001";

/**
 * A prompt of 90 words: the fake echoes it, which makes a generateContent reply of about 1 KB
 * (1,058 bytes of body with the fake's usage metadata).
 */
export const PROMPT = Array.from({ length: 90 }, (_, i) => `word${i % 10}`).join(" ");

/** Where a target is and what it needs besides the request. */
export interface TargetEndpoint {
  /** Which server. */
  kind: TargetKind;
  /** Base URL on 127.0.0.1. */
  url: string;
  /** The fake upstream's base URL (Portkey is told it per request). */
  upstreamUrl: string;
}

/**
 * Builds the request a target receives for a route.
 * @param target The server and its address.
 * @param route Native Gemini REST or the OpenAI-compatible chat route.
 * @param stream Whether to ask for an SSE stream.
 * @returns The request.
 */
export function buildRequest(target: TargetEndpoint, route: Route, stream: boolean): LoadRequest {
  const credential = target.kind === "ours" ? PROXY_TOKEN : CLIENT_KEY;
  if (route === "native") {
    const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
    return {
      url: `${target.url}/v1beta/models/${MODEL}:${method}`,
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": credential },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: PROMPT }] }] }),
    };
  }
  const headers: Record<string, string> = {
    "content-type": "application/json",
    authorization: `Bearer ${credential}`,
  };
  let path = "/v1beta/openai/chat/completions";
  if (target.kind === "portkey") {
    // Portkey's OpenAI provider pointed at the fake's OpenAI-compatible layer: the same upstream
    // work as our /v1beta/openai route, reached the way Portkey documents for custom hosts.
    path = "/v1/chat/completions";
    headers["x-portkey-provider"] = "openai";
    headers["x-portkey-custom-host"] = `${target.upstreamUrl}/v1beta/openai`;
  }
  const body: Record<string, unknown> = {
    model: MODEL,
    messages: [{ role: "user", content: PROMPT }],
  };
  if (stream) body.stream = true;
  return { url: target.url + path, method: "POST", headers, body: JSON.stringify(body) };
}

/** Options of {@linkcode productionEnv}. */
export interface ProductionEnvOptions {
  /** The fake upstream. */
  upstreamUrl: string;
  /** Deno KV file for this run. */
  kvPath: string;
  /** How many Gemini keys to configure (default 20). */
  keys?: number;
}

/**
 * The environment Gemini Proxy runs with in the benchmark: what a user turns on in production.
 * Extend it as features land, so every row keeps measuring the full product.
 * @param options Upstream, KV file and key count.
 * @returns Environment variables for `main.ts`.
 */
export function productionEnv(options: ProductionEnvOptions): Record<string, string> {
  return {
    HOST: "127.0.0.1",
    PORT: "0",
    UPSTREAM_URL: options.upstreamUrl,
    GEMINI_API_KEYS: fakeKeys(options.keys ?? 20).join(","),
    PROXY_TOKENS: PROXY_TOKEN,
    STORE: "kv",
    KV_PATH: options.kvPath,
    SECRET_KEY: BENCH_SECRET_KEY,
    LOG_LEVEL: "warn",
    // Request logs (queued, written to KV in batches with their per-minute/hour/day aggregates),
    // /metrics, token usage counting and runtime settings are on by default in the code measured:
    // no switch needed. LOG_BODIES stays at its default (none), as most deployments run it.
    // The admin console and its JSON API, as a production deployment has them (the stats rows
    // call the API with this password).
    ADMIN_PASSWORD,
    // /metrics behind a bearer token, as it should be when the proxy is reachable.
    METRICS_TOKEN,
  };
}

/**
 * Fake Gemini keys, `AIzaFAKE-BENCH-00001` and on: never sent anywhere but the fake upstream.
 * @param count How many.
 * @returns The keys.
 */
export function fakeKeys(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `AIzaFAKE-BENCH-${String(i + 1).padStart(5, "0")}`,
  );
}
