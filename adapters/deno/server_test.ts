import { runProxyContract } from "../../tests/support/proxy_contract/mod.ts";
import { startServer } from "./server.ts";

runProxyContract("deno entry", async (options) => {
  const dir = await Deno.makeTempDir({ prefix: "gemini-proxy-test-" });
  const logs: string[] = [];
  const server = await startServer({
    PORT: "0",
    STORE: "kv",
    KV_PATH: `${dir}/proxy.kv`,
    SECRET_KEY: "test-secret-key-0123456789",
    LOG_LEVEL: "debug",
    UPSTREAM_URL: options.upstreamUrl,
    GEMINI_API_KEYS: options.keys.join(","),
    PROXY_TOKENS: options.tokens.join("\n"),
    ...options.env,
  }, { logSink: (_level, line) => logs.push(line) });
  return {
    url: server.url,
    logs,
    async close() {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
