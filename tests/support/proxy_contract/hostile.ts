/**
 * The hostile part of the proxy contract suite, run for every deployment target by
 * {@linkcode runProxyContract}: the proxy token in any encoding of the key parameter never
 * reaches upstream (native, OpenAI, upload start, Live), and malformed paths and model ids get a
 * 4xx in Google's envelope instead of a 500.
 * @module
 */
import { assert, assertEquals, assertNotIncludes } from "../assert.ts";
import { type FakeUpstream, startFakeUpstream } from "../fake_upstream/mod.ts";
import type { ProxyTarget, StartTarget } from "./_suite.ts";

/** The encodings of the key parameter every target must read and strip. */
const ENCODINGS = ["%6Bey", "k%65y", "%24key"];
const LIVE = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

/**
 * Opens a Live socket, sends the setup message and waits for upstream's answer to it, so the
 * upstream connection has certainly been made; then closes.
 * @param url The socket URL.
 */
export async function liveSetup(url: string): Promise<void> {
  const socket = new WebSocket(url);
  const closed = new Promise((resolve) => socket.onclose = resolve);
  const answered = new Promise<string>((resolve, reject) => {
    socket.onopen = () =>
      socket.send(JSON.stringify({ setup: { model: "models/gemini-2.0-flash-live-001" } }));
    socket.onmessage = (event) =>
      resolve(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data));
    socket.onerror = () => reject(new Error("the Live socket failed"));
  });
  assert((await answered).includes("setupComplete"), "upstream answered the setup");
  socket.close();
  await closed;
}

/**
 * Registers the hostile contract tests for one target.
 * @param name Target name used in test names.
 * @param start Starts the target.
 * @param options The keys and token the suite configures, and why the platform cannot relay the
 * Live API (its case is then skipped).
 */
export function runHostileContract(
  name: string,
  start: StartTarget,
  options: { keys: string[]; token: string; skipLive?: string | undefined },
): void {
  const { keys, token, skipLive } = options;
  async function withProxy(fn: (fake: FakeUpstream, proxy: ProxyTarget) => Promise<void>) {
    const fake = await startFakeUpstream();
    let proxy: ProxyTarget | undefined;
    try {
      proxy = await start({ upstreamUrl: fake.url, keys, tokens: [token] });
      await fn(fake, proxy);
    } finally {
      await proxy?.close();
      await fake.close();
    }
  }
  function assertNoToken(fake: FakeUpstream, what: string): void {
    assert(fake.requests.length > 0, `${what}: upstream saw the request`);
    for (const r of fake.requests) {
      const seen = [r.search, JSON.stringify(r.headers), r.body ?? ""].join("\n");
      assertNotIncludes(seen, token, what);
      assertNotIncludes(decodeURIComponent(seen.replaceAll("+", " ")), token, what);
      assert(r.key !== null && keys.includes(r.key), `${what}: upstream got a real key`);
    }
  }

  Deno.test(`${name}: the token in any encoding of key never reaches upstream`, () =>
    withProxy(async (fake, proxy) => {
      for (const param of ENCODINGS) {
        const q = `${param}=${token}`;
        const list = await fetch(`${proxy.url}/v1beta/models?${q}&pageSize=1`);
        assertEquals(list.status, 200, q);
        await list.body?.cancel();
        const chat = await fetch(`${proxy.url}/v1beta/openai/chat/completions?${q}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "gemini-2.5-flash",
            messages: [{ role: "user", content: "x" }],
          }),
        });
        assertEquals(chat.status, 200, q);
        await chat.body?.cancel();
        const upload = await fetch(`${proxy.url}/upload/v1beta/files?${q}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-goog-upload-protocol": "resumable",
            "x-goog-upload-command": "start",
            "x-goog-upload-header-content-length": "5",
          },
          body: JSON.stringify({ file: { displayName: "f" } }),
        });
        assertEquals(upload.status, 200, q);
        assertNotIncludes(upload.headers.get("x-goog-upload-url") ?? "", token);
        await upload.body?.cancel();
        assertNoToken(fake, q);
        fake.reset();
      }
    }));

  Deno.test({
    name: `${name}: the token in any encoding of key never reaches upstream on the Live socket${
      skipLive === undefined ? "" : ` (skipped: ${skipLive})`
    }`,
    ignore: skipLive !== undefined,
    fn: () =>
      withProxy(async (fake, proxy) => {
        for (const param of ENCODINGS) {
          const q = `${param}=${token}`;
          await liveSetup(`${proxy.url.replace(/^http/, "ws")}${LIVE}?${q}`);
          assertEquals(fake.requests.filter((r) => r.path.includes("/ws/")).length, 1, q);
          assertNoToken(fake, q);
          fake.reset();
        }
      }),
  });

  Deno.test(`${name}: bad escapes and model ids get a 4xx envelope and never reach upstream`, () =>
    withProxy(async (fake, proxy) => {
      for (
        const [path, status] of [
          ["/v1beta/models/gemini%ZZ:generateContent", 400],
          [`/v1beta/models/${"g".repeat(300)}:generateContent`, 400],
          ["/v1beta/models/Gemini-%C3%BC:generateContent", 400],
          [`/v1beta/files/${"f".repeat(3000)}`, 414],
        ] as const
      ) {
        const response = await fetch(`${proxy.url}${path}`, {
          method: "POST",
          headers: { "x-goog-api-key": token, "content-type": "application/json" },
          body: "{}",
        });
        const body = await response.json();
        assertEquals([response.status, body.error.code], [status, status], path.slice(0, 60));
        assertEquals(body.error.status, "INVALID_ARGUMENT");
      }
      const invented = await fetch(`${proxy.url}/v1beta/models/gemini-invented-1:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
      });
      assertEquals(invented.status, 404, "a well-formed unknown model is upstream's to refuse");
      await invented.body?.cancel();
      assertEquals(fake.requests.length, 1);
    }));

  Deno.test(`${name}: a token holder cannot mint an ephemeral token tied to a pool key`, () =>
    withProxy(async (fake, proxy) => {
      for (const version of ["v1alpha", "v1beta", "v1"]) {
        const response = await fetch(`${proxy.url}/${version}/auth_tokens`, {
          method: "POST",
          headers: { "x-goog-api-key": token, "content-type": "application/json" },
          body: JSON.stringify({ uses: 1 }),
        });
        const body = await response.json();
        assertEquals([response.status, body.error.status], [403, "PERMISSION_DENIED"], version);
        assertEquals(body.error.details[0].reason, "CREDENTIAL_MINTING_REFUSED");
      }
      assertEquals(fake.requests.length, 0, "nothing reached upstream");
    }));
}
