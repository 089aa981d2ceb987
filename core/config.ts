/**
 * Configuration from environment variables, parsed once with zod at start-up.
 * @module
 */
// A namespace import lets bundlers drop the parts of zod never used (the Worker bundle).
import * as z from "zod";
import { parseFallbackEntry, REGION_PARAM } from "./proxy/fallback_entry.ts";

/** Default upstream: Google's Generative Language API. */
export const DEFAULT_UPSTREAM_URL = "https://generativelanguage.googleapis.com";

const keyLimitsSchema = z.record(
  z.string(),
  z.object({
    rpm: z.number().int().positive().optional(),
    rpd: z.number().int().positive().optional(),
  })
    .strict(),
);

const secretList = z.string().default("").transform((text) => splitSecrets(text));
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: integer(0, 65535).default(8000),
  UPSTREAM_URL: z.url({ protocol: /^https?$/ }).default(DEFAULT_UPSTREAM_URL)
    .transform((url) => url.replace(/\/+$/, "")),
  CF_AIG_TOKEN: z.string().min(1).optional(),
  GEMINI_API_KEYS: secretList,
  PROXY_TOKENS: secretList,
  ADMIN_PASSWORD: z.string().min(8).optional(),
  COOKIE_SECURE: z.enum(["auto", "always", "never"]).default("auto"),
  SECRET_KEY: z.string().min(16).optional(),
  SECRET_KEY_PREVIOUS: z.string().min(16).optional(),
  STORE: z.enum(["kv", "memory", "supabase"]).default("kv"),
  KV_PATH: z.string().min(1).default("./data/gemini-proxy.kv"),
  SUPABASE_URL: z.url({ protocol: /^https?$/ }).optional()
    .transform((u) => u?.replace(/\/+$/, "")),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(20).optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  MAX_BODY_BYTES: integer(1024, 2 ** 40).default(256 * 1024 ** 2),
  MAX_BUFFERED_BYTES: integer(0, 2 ** 31).default(16 * 1024 ** 2),
  MAX_HEADER_BYTES: integer(1024, 1024 ** 2).default(32 * 1024),
  UPSTREAM_TIMEOUT_MS: integer(1000, 3_600_000).default(600_000),
  BODY_TIMEOUT_MS: integer(100, 3_600_000).default(60_000),
  REGION: z.string().regex(/^[\w.-]{1,64}$/, "must be a region name such as eu or us-east4")
    .optional(),
  DENO_REGION: z.string().optional(),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional().transform((u) => u?.replace(/\/+$/, "")),
  ROTATION_STRATEGY: z.enum(["round_robin", "least_used", "weighted"]).default("round_robin"),
  MAX_ATTEMPTS: integer(1, 20).default(3),
  WAIT_WHEN_EXHAUSTED_MS: integer(0, 600_000).default(0),
  DEFAULT_COOLDOWN_MS: integer(1000, 3_600_000).default(60_000),
  RETRY_BACKOFF_MS: integer(0, 60_000).default(100),
  KEY_LIMITS: z.string().default("{}").transform((text, ctx) => {
    try {
      return keyLimitsSchema.parse(JSON.parse(text));
    } catch {
      ctx.addIssue({
        code: "custom",
        message: 'must be JSON such as {"gemini-2.5-flash":{"rpm":10,"rpd":250},"*":{"rpm":60}}',
      });
      return z.NEVER;
    }
  }),
  REVALIDATE_INTERVAL_MS: integer(0, 7 * 24 * 3_600_000).default(3_600_000),
  LOG_BODIES: z.enum(["none", "errors", "all"]).default("none"),
  LOG_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
  LOG_QUEUE_MAX: integer(100, 10_000_000).default(50_000),
  METRICS_TOKEN: z.string().min(8).optional(),
  FALLBACK_PROXY_URLS: z.string().default("").transform((text, ctx) => {
    const urls: string[] = [];
    for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
      const parsed = parseFallbackEntry(entry);
      if ("error" in parsed) {
        ctx.addIssue({ code: "custom", message: `"${entry}" ${parsed.error}` });
        return z.NEVER;
      }
      urls.push(parsed.region ? `${parsed.base}?${REGION_PARAM}=${parsed.region}` : parsed.base);
    }
    return urls;
  }),
  BLOCKED_COLOS: z.string().default("HKG").transform((text) =>
    text.toLowerCase() === "none"
      ? []
      : text.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase())
  ),
  RELAY_SECRET: z.string().min(16).optional(),
  TRUST_PROXY: integer(0, 10).default(0),
  CONSOLE_URL: z.url({ protocol: /^https?$/ }).optional(),
});

/** Every environment variable the configuration reads (platform builds list them). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** Raw environment: variable name to value. */
export type Env = Record<string, string | undefined>;

/** The validated configuration the app is built from. */
export interface Config {
  /** Interface to listen on. */
  host: string;
  /** Port to listen on. */
  port: number;
  /** Upstream base URL without a trailing slash (Google, or a Cloudflare AI Gateway URL). */
  upstreamUrl: string;
  /** Sent as `cf-aig-authorization: Bearer ...` when set. */
  cfAigToken: string | undefined;
  /** Gemini keys imported at start-up, de-duplicated. */
  geminiKeys: string[];
  /** Proxy tokens imported at start-up, de-duplicated. */
  proxyTokens: string[];
  /** Admin console password; the console stays closed without it. */
  adminPassword: string | undefined;
  /**
   * When the console's session cookie is `Secure`: `auto` unless the console is opened on this
   * machine (localhost, 127.0.0.1, ::1), `always`, or `never` (plain HTTP on a trusted network).
   */
  cookieSecure: "auto" | "always" | "never";
  /** Secret for key encryption and session signing. */
  secretKey: string | undefined;
  /** The secret keys were sealed with before a rotation; they are re-sealed at start-up. */
  secretKeyPrevious: string | undefined;
  /** Store backend. */
  store: "kv" | "memory" | "supabase";
  /** Supabase project URL (`STORE=supabase`). */
  supabaseUrl: string | undefined;
  /** Supabase service role key (`STORE=supabase`); reaches the store's tables and functions. */
  supabaseServiceRoleKey: string | undefined;
  /** Local Deno KV file. */
  kvPath: string;
  /** Log verbosity. */
  logLevel: "debug" | "info" | "warn" | "error";
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest request body buffered so it can be replayed on another key, in bytes. */
  maxBufferedBytes: number;
  /** Largest total request header size accepted, in bytes. */
  maxHeaderBytes: number;
  /** How long to wait for upstream response headers, in ms. */
  upstreamTimeoutMs: number;
  /** How long to wait for a buffered request body to arrive, in ms. */
  bodyTimeoutMs: number;
  /** Region serving requests: `REGION`, else what the platform tells (`DENO_REGION`). */
  region: string | undefined;
  /** Public base URL of the proxy, for rewritten upload URLs (default: from the request). */
  publicUrl: string | undefined;
  /** Key selection strategy. */
  strategy: "round_robin" | "least_used" | "weighted";
  /** Distinct keys tried for one request before the error reaches the client. */
  maxAttempts: number;
  /** When every key is cooling, wait up to this long for one to free up (0: answer 429 at once). */
  waitWhenExhaustedMs: number;
  /** Cooldown after a per-minute 429 that says nothing about when to retry. */
  defaultCooldownMs: number;
  /** Pause before retrying a 5xx on another key. */
  retryBackoffMs: number;
  /** Default proactive per-model caps for every key (or project). */
  keyLimits: Record<string, { rpm?: number; rpd?: number }>;
  /** How often disabled keys are re-validated (0: never on a schedule). */
  revalidateIntervalMs: number;
  /** Which request and response bodies go into logs. */
  logBodies: "none" | "errors" | "all";
  /** How long request logs are kept, ms. */
  logRetentionMs: number;
  /** Most log records held in memory before new ones are dropped (and counted). */
  logQueueMax: number;
  /** Bearer token required by `/metrics`, when set. */
  metricsToken: string | undefined;
  /** Variables explicitly set in the environment: they win over settings saved in the console. */
  forced: string[];
  /**
   * Other Gemini Proxy deployments a request refused for its location is relayed to, once: base
   * URLs, each optionally ending in `?forceFunctionRegion=<region>` (sent as `x-region`).
   */
  fallbackProxyUrls: string[];
  /** Serving regions (Cloudflare colos) whose requests go straight to a fallback. */
  blockedColos: string[];
  /** Secret shared between deployments that relay to each other. */
  relaySecret: string | undefined;
  /**
   * Reverse proxies in front of this one whose `X-Forwarded-For` entries are trusted: the client
   * address logged is the N-th entry from the right (0: the socket's peer, the header ignored).
   */
  trustProxy: number;
  /** Where the admin console runs, linked from `/admin` on hosts that serve none. */
  consoleUrl: string | undefined;
}

/**
 * Parses and validates the environment.
 * @param env Variables, e.g. the whole process environment.
 * @returns The configuration.
 * @throws {Error} Naming each bad variable and what is wrong with it.
 * @example
 * ```ts
 * const config = parseConfig({ PORT: "8080", GEMINI_API_KEYS: "AIza...,AIza..." });
 * ```
 */
export function parseConfig(env: Env): Config {
  const cleaned: Env = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name]?.trim();
    if (value) cleaned[name] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const got = cleaned[name];
      const shown = got === undefined
        ? ""
        : isSecretName(name)
        ? " (value hidden)"
        : ` (got "${got}")`;
      return `  ${name}: ${issue.message}${shown}`;
    });
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const v = result.data;
  if (v.STORE === "supabase") {
    // SECRET_KEY too: every process sharing the project (Edge Function, console) must decrypt
    // the same keys, so a secret generated on one machine will not do.
    const missing = ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SECRET_KEY"]
      .filter((name) => !cleaned[name]);
    if (missing.length > 0) {
      const lines = missing.map((name) => `  ${name}: is required when STORE is supabase`);
      throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
    }
  }
  if (v.FALLBACK_PROXY_URLS.length > 0 && !v.RELAY_SECRET) {
    throw new Error(
      "Invalid configuration:\n  RELAY_SECRET: is required when FALLBACK_PROXY_URLS is set",
    );
  }
  return {
    host: v.HOST,
    port: v.PORT,
    upstreamUrl: v.UPSTREAM_URL,
    cfAigToken: v.CF_AIG_TOKEN,
    geminiKeys: v.GEMINI_API_KEYS,
    proxyTokens: v.PROXY_TOKENS,
    adminPassword: v.ADMIN_PASSWORD,
    cookieSecure: v.COOKIE_SECURE,
    secretKey: v.SECRET_KEY,
    secretKeyPrevious: v.SECRET_KEY_PREVIOUS,
    store: v.STORE,
    kvPath: v.KV_PATH,
    supabaseUrl: v.SUPABASE_URL,
    supabaseServiceRoleKey: v.SUPABASE_SERVICE_ROLE_KEY,
    logLevel: v.LOG_LEVEL,
    maxBodyBytes: v.MAX_BODY_BYTES,
    maxBufferedBytes: v.MAX_BUFFERED_BYTES,
    maxHeaderBytes: v.MAX_HEADER_BYTES,
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT_MS,
    bodyTimeoutMs: v.BODY_TIMEOUT_MS,
    region: v.REGION ?? v.DENO_REGION,
    publicUrl: v.PUBLIC_URL,
    strategy: v.ROTATION_STRATEGY,
    maxAttempts: v.MAX_ATTEMPTS,
    waitWhenExhaustedMs: v.WAIT_WHEN_EXHAUSTED_MS,
    defaultCooldownMs: v.DEFAULT_COOLDOWN_MS,
    retryBackoffMs: v.RETRY_BACKOFF_MS,
    keyLimits: stripUndefined(v.KEY_LIMITS),
    revalidateIntervalMs: v.REVALIDATE_INTERVAL_MS,
    logBodies: v.LOG_BODIES,
    logRetentionMs: v.LOG_RETENTION_DAYS * 86_400_000,
    logQueueMax: v.LOG_QUEUE_MAX,
    metricsToken: v.METRICS_TOKEN,
    forced: Object.keys(cleaned),
    fallbackProxyUrls: v.FALLBACK_PROXY_URLS,
    blockedColos: v.BLOCKED_COLOS,
    relaySecret: v.RELAY_SECRET,
    trustProxy: v.TRUST_PROXY,
    consoleUrl: v.CONSOLE_URL,
  };
}

/**
 * Splits a list of secrets separated by commas, spaces or newlines, dropping empties and
 * duplicates while keeping the first occurrence's order.
 * @param text The raw list.
 */
export function splitSecrets(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((s) => s.length > 0))];
}

function stripUndefined(
  limits: Record<string, { rpm?: number | undefined; rpd?: number | undefined }>,
): Record<string, { rpm?: number; rpd?: number }> {
  const out: Record<string, { rpm?: number; rpd?: number }> = {};
  for (const [model, l] of Object.entries(limits)) {
    out[model] = {
      ...(l.rpm !== undefined ? { rpm: l.rpm } : {}),
      ...(l.rpd !== undefined ? { rpd: l.rpd } : {}),
    };
  }
  return out;
}

function isSecretName(name: string): boolean {
  return /KEY|TOKEN|PASSWORD|SECRET/.test(name);
}
