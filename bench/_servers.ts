/**
 * Starting each server under test as its own process, on 127.0.0.1 only.
 * @module
 */
import { CHUNK_DELAY_MS, STREAM_CHUNKS } from "./_options.ts";
import { freePort, nonLoopbackListeners, ROOT, type Server, spawnServer } from "./_process.ts";

/** Portkey's gateway version the comparison is pinned to. */
export const PORTKEY_VERSION = "1.15.2";

const PORTKEY_DIR = `${ROOT}/.bench/portkey`;
const PORTKEY_BIN = `${PORTKEY_DIR}/node_modules/@portkey-ai/gateway/build/start-server.js`;

/** Stream shape of the fake upstream. */
export interface UpstreamShape {
  /** Delay before every response's headers, ms. */
  delayMs: number;
  /** Chunks per streamed reply. */
  streamChunks: number;
  /** Pause between streamed chunks, ms. */
  chunkDelayMs: number;
}

/**
 * The benchmark's usual upstream: the stream shape of the streaming rows, with a delay.
 * @param delayMs Delay before every response's headers, ms.
 * @returns The shape.
 */
export function benchShape(delayMs: number): UpstreamShape {
  return { delayMs, streamChunks: STREAM_CHUNKS, chunkDelayMs: CHUNK_DELAY_MS };
}

/**
 * Starts the fake Gemini upstream (bench/upstream_server.ts).
 * @param shape Delays and stream length.
 * @returns The running upstream.
 */
export function startUpstream(shape: UpstreamShape): Promise<Server> {
  return spawnServer({
    name: `fake upstream (${shape.delayMs} ms)`,
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "bench/upstream_server.ts",
      `--delay-ms=${shape.delayMs}`,
      `--stream-chunks=${shape.streamChunks}`,
      `--chunk-delay-ms=${shape.chunkDelayMs}`,
    ],
    portPattern: /FAKE_UPSTREAM_PORT=(\d+)/,
  });
}

/**
 * Starts the bare passthrough proxy (bench/bare_proxy.ts).
 * @param upstreamUrl Where it forwards.
 * @returns The running proxy.
 */
export function startBareProxy(upstreamUrl: string): Promise<Server> {
  return spawnServer({
    name: "bare Deno proxy",
    cmd: Deno.execPath(),
    args: ["run", "--allow-net=127.0.0.1", "--allow-env", "bench/bare_proxy.ts"],
    env: { UPSTREAM_URL: upstreamUrl, PORT: "0" },
    portPattern: /BARE_PROXY_PORT=(\d+)/,
  });
}

/**
 * Starts Gemini Proxy through its production entry, `main.ts`, with the permissions of
 * `deno task start`.
 * @param env Its environment (see `productionEnv`).
 * @param label Name in errors.
 * @returns The running proxy.
 */
export function startGeminiProxy(
  env: Record<string, string>,
  label = "Gemini Proxy",
): Promise<Server> {
  return spawnServer({
    name: label,
    cmd: Deno.execPath(),
    args: ["run", ...GEMINI_PROXY_FLAGS, "main.ts"],
    env,
    portPattern: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    readyTimeoutMs: 180_000,
  });
}

/**
 * Starts Gemini Proxy with an environment read from a JSON file (bench/proxy_env_file.ts), for
 * environments too large for exec: Linux caps one environment string at 128 KiB, and 10,000 keys
 * in GEMINI_API_KEYS take about 210 KB.
 * @param env Its environment.
 * @param label Name in errors.
 * @param flags Extra `deno run` flags (`--inspect=...`).
 * @returns The running proxy.
 */
export async function startGeminiProxyFromFile(
  env: Record<string, string>,
  label: string,
  flags: string[] = [],
): Promise<Server> {
  const file = await Deno.makeTempFile({ prefix: "gemini-proxy-bench-env-", suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(env));
  try {
    return await spawnServer({
      name: label,
      cmd: Deno.execPath(),
      args: ["run", ...flags, ...GEMINI_PROXY_FLAGS, "bench/proxy_env_file.ts", file],
      portPattern: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      readyTimeoutMs: 300_000,
    });
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

const GEMINI_PROXY_FLAGS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--unstable-kv",
];

/**
 * Installs Portkey's gateway into `.bench/portkey` (git-ignored) unless it is there already.
 * @returns null when ready, else why it cannot run.
 */
export async function ensurePortkey(): Promise<string | null> {
  try {
    await Deno.stat(PORTKEY_BIN);
    return null;
  } catch {
    // Not installed yet.
  }
  console.log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into .bench/portkey`);
  try {
    await Deno.mkdir(PORTKEY_DIR, { recursive: true });
    const { success, stderr } = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        PORTKEY_DIR,
        "--no-audit",
        "--no-fund",
        `@portkey-ai/gateway@${PORTKEY_VERSION}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) return `npm install failed: ${new TextDecoder().decode(stderr).slice(-500)}`;
    await Deno.stat(PORTKEY_BIN);
    return null;
  } catch (error) {
    return `cannot install Portkey (needs node and npm): ${String(error)}`;
  }
}

/**
 * Starts Portkey's gateway (`gateway --port=N --headless`) under Node with a preload that binds
 * it to 127.0.0.1 (it has no option for that), then checks nothing listens beyond loopback.
 * @returns The running gateway.
 * @throws {Error} When it binds a non-loopback address.
 */
export async function startPortkey(): Promise<Server> {
  const port = freePort();
  const server = await spawnServer({
    name: "Portkey gateway",
    cmd: "node",
    args: [
      "--import",
      `${ROOT}/bench/portkey_loopback.mjs`,
      PORTKEY_BIN,
      `--port=${port}`,
      "--headless",
    ],
    port,
  });
  const exposed = nonLoopbackListeners(port);
  if (exposed.length > 0) {
    await server.stop();
    throw new Error(`Portkey listened beyond loopback: ${exposed.join(", ")}`);
  }
  return server;
}

/**
 * Reads the Node version, for the machine section.
 * @returns `v20.x.y`, or null without Node.
 */
export async function nodeVersion(): Promise<string | null> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return null;
  }
}
