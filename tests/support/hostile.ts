/**
 * Shared pieces of the hostile-input suites: raw requests on fresh connections, envelope and leak
 * checks, and a harness that must stay healthy and leak no key whatever a test sent.
 * @module
 */
import { assert, assertEquals, assertNotIncludes } from "./assert.ts";
import { fakeKeys, type Harness, startHarness, TOKEN } from "./harness.ts";

/** The harness keys of every hostile suite. */
export const KEYS = fakeKeys(3);

/** Sends raw bytes on a fresh connection and returns the status and body of the answer. */
export async function raw(
  h: Harness,
  request: string | Uint8Array,
): Promise<{ status: number; text: string }> {
  const port = Number(new URL(h.proxy.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(typeof request === "string" ? new TextEncoder().encode(request) : request);
    const buf = new Uint8Array(65536);
    let text = "";
    const decoder = new TextDecoder();
    // Only a server that never answers meets this; a slow one still answers within it.
    const deadline = setTimeout(() => conn.close(), 30_000);
    try {
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        text += decoder.decode(buf.subarray(0, n), { stream: true });
        const end = text.indexOf("\r\n\r\n");
        const length = Number(text.match(/\r\ncontent-length: (\d+)/i)?.[1] ?? NaN);
        // The server may keep the connection open after answering early: stop at the body's end.
        if (end >= 0 && text.length - end - 4 >= length) break;
      }
    } finally {
      clearTimeout(deadline);
    }
    const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    return { status, text };
  } finally {
    try {
      conn.close();
    } catch { /* already closed by the server */ }
  }
}

/** A raw GET with the harness token and any extra header lines. */
export function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-goog-api-key: ${TOKEN}\r\n${extra}Connection: close\r\n\r\n`;
}

/** The proxy still answers /healthz. */
export async function assertHealthy(h: Harness): Promise<void> {
  const response = await fetch(`${h.proxy.url}/healthz`);
  assertEquals(response.status, 200);
  await response.body?.cancel();
}

/** A raw answer (head and body) carries Google's error envelope with this status. */
export function assertEnvelope(text: string, status: number): void {
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  const parsed = JSON.parse(
    body.includes("{") ? body.slice(body.indexOf("{"), body.lastIndexOf("}") + 1) : "{}",
  );
  assertEquals(parsed.error?.code, status, body);
  assert(typeof parsed.error.message === "string" && parsed.error.status);
}

/** No key in an answer, and upstream always saw its own host. */
export function assertNoLeak(h: Harness, text: string): void {
  for (const key of KEYS) assertNotIncludes(text, key);
  for (const r of h.fake.requests) {
    assert(r.headers.host?.startsWith("127.0.0.1:"), "upstream host never changes");
  }
}

/** Runs a test against a fresh harness, then checks it is healthy and logged no key. */
export async function withHarness(
  fn: (h: Harness) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const h = await startHarness({ keys: KEYS, env });
  try {
    await fn(h);
    await assertHealthy(h);
    for (const line of h.logs) for (const key of KEYS) assertNotIncludes(line, key);
  } finally {
    await h.close();
  }
}
