/**
 * Shared set-up for tests that drive the proxy over real sockets: a fake upstream, a proxy in
 * this process with an injected clock, and proxies in child processes sharing one KV file.
 * @module
 */
import { type RunningServer, startServer } from "../../adapters/deno/server.ts";
import {
  type FakeUpstream,
  type FakeUpstreamOptions,
  startFakeUpstream,
} from "./fake_upstream/mod.ts";

/** The proxy token every harness proxy accepts. */
export const TOKEN = "gp-TEST-harness-token-0001";
/** The secret every harness proxy uses, so processes can share a KV file. */
export const SECRET = "test-secret-key-0123456789";

/**
 * The environment of an app built in the test's own process (`createApp`) on a memory store: two
 * fake keys, the harness token and secret, and `extra` on top.
 * @param upstreamUrl The fake upstream.
 * @param extra More variables.
 */
export function memoryAppEnv(
  upstreamUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    UPSTREAM_URL: upstreamUrl,
    GEMINI_API_KEYS: fakeKeys(2).join(","),
    PROXY_TOKENS: TOKEN,
    SECRET_KEY: SECRET,
    STORE: "memory",
    ...extra,
  };
}

/** `n` obviously fake keys. */
export function fakeKeys(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `AIzaFAKE-TEST-key-${String(i + 1).padStart(21, "0")}`,
  );
}

/** A movable clock. */
export interface Clock {
  now: number;
}

/** A proxy in this process, its fake upstream, clock and temp dir. */
export interface Harness {
  fake: FakeUpstream;
  proxy: RunningServer;
  clock: Clock;
  kvPath: string;
  logs: string[];
  /** POSTs generateContent for a model with the harness token. */
  generate(model?: string, text?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Options of {@linkcode startHarness}. */
export interface HarnessOptions {
  keys?: string[];
  env?: Record<string, string>;
  fake?: FakeUpstreamOptions;
  /** Start time of the injected clock (epoch ms). */
  start?: number;
}

/**
 * Starts a fake upstream and a proxy in this process on a temp KV file.
 * @param options Keys, extra env and clock start.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await startFakeUpstream(options.fake);
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-test-" });
  const kvPath = `${dir}/proxy.kv`;
  const clock = { now: options.start ?? Date.parse("2026-01-15T20:00:00Z") };
  const logs: string[] = [];
  const proxy = await startServer({
    PORT: "0",
    KV_PATH: kvPath,
    SECRET_KEY: SECRET,
    UPSTREAM_URL: fake.url,
    GEMINI_API_KEYS: (options.keys ?? fakeKeys(3)).join(","),
    PROXY_TOKENS: TOKEN,
    RETRY_BACKOFF_MS: "0",
    LOG_LEVEL: "info",
    ...options.env,
  }, {
    now: () => clock.now,
    sleep: (ms) => {
      clock.now += ms;
      return Promise.resolve();
    },
    logSink: (_level, line) => logs.push(line),
  });
  return {
    fake,
    proxy,
    clock,
    kvPath,
    logs,
    generate(model = "gemini-2.5-flash", text = "hello") {
      return generate(proxy.url, model, text);
    },
    async close() {
      await proxy.close();
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * POSTs a generateContent request.
 * @param base Proxy base URL.
 * @param model Model id.
 * @param text Prompt text.
 */
export function generate(
  base: string,
  model = "gemini-2.5-flash",
  text = "hello",
): Promise<Response> {
  return fetch(`${base}/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] }),
  });
}

/** A proxy running as its own `deno run main.ts` process. */
export interface ChildProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the proxy as a child process (the real entry point) on a shared KV file.
 * @param env Environment for the child (UPSTREAM_URL, KV_PATH, keys...).
 */
export async function startChildProxy(env: Record<string, string>): Promise<ChildProxy> {
  const root = new URL("../..", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", `${root}main.ts`],
    cwd: root,
    env: { PORT: "0", SECRET_KEY: SECRET, LOG_LEVEL: "warn", RETRY_BACKOFF_MS: "0", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  // Generous: a loaded machine starts a process slowly, and only a broken one takes this long.
  const deadline = Date.now() + 60_000;
  while (!/listening on (http:\/\/\S+)/.test(seen)) {
    if (Date.now() > deadline) throw new Error(`child proxy did not start: ${seen}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`child proxy exited: ${seen}`);
    seen += value;
  }
  const url = seen.match(/listening on (http:\/\/\S+)/)![1]!;
  // Keep draining stdout so the child never blocks on a full pipe.
  const drain = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  return {
    url,
    async close() {
      child.kill("SIGTERM");
      await child.status;
      await drain;
    },
  };
}

/** Counts upstream requests per key. */
export function countByKey(
  fake: FakeUpstream,
  filter: (path: string) => boolean = () => true,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of fake.requests) {
    if (!filter(r.path) || r.key === null) continue;
    counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  }
  return counts;
}
