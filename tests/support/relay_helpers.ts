/**
 * Helpers for the regional failover tests: a recording hop between deployments, the admin logs of
 * a deployment, and a free loopback port.
 * @module
 */
import type { LogRecord } from "../../core/store/log_record.ts";

/** The admin password every failover test deployment uses. */
export const ADMIN = "admin-password-for-tests";
/** The relay secret shared by the test deployments. */
export const RELAY = "relay-secret-shared-by-tests-0123";

/** A request as the recording hop saw it on its way to a fallback deployment. */
export interface SeenRelay {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body: string;
}

/** A loopback forwarder that records what one deployment sends another. */
export interface RecordingHop {
  url: string;
  seen: SeenRelay[];
  close(): Promise<void>;
}

/**
 * Starts a forwarder to `target` that records every request passing through.
 * @param target Base URL of the deployment behind it (or a function giving it, for late binding).
 */
export function startRecordingHop(target: string | (() => string)): RecordingHop {
  const seen: SeenRelay[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : null;
    seen.push({
      method: req.method,
      path: url.pathname,
      search: url.search,
      headers: Object.fromEntries(req.headers),
      body: body ? new TextDecoder().decode(body) : "",
    });
    const base = typeof target === "string" ? target : target();
    const headers = new Headers(req.headers);
    headers.delete("host");
    return fetch(base + url.pathname + url.search, {
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    close: () => server.shutdown(),
  };
}

/**
 * Reads a deployment's request logs through its admin API, waiting until `ready` accepts them
 * (records are written in the background, by another process for some deployments).
 * @param base Deployment base URL.
 * @param ready Returns true once the logs are complete enough.
 * @param timeoutMs Longest wait: generous, since only a broken deployment gets near it; the
 *   logs seen last are returned then, for the caller's assertion to show.
 */
export async function adminLogs(
  base: string,
  ready: (logs: LogRecord[]) => boolean = (logs) => logs.length > 0,
  timeoutMs = 60_000,
): Promise<LogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${base}/admin/api/logs?limit=100`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    if (response.status !== 200) {
      throw new Error(`admin logs answered ${response.status}: ${await response.text()}`);
    }
    const { logs } = await response.json() as { logs: LogRecord[] };
    if (ready(logs) || Date.now() > deadline) return logs;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A loopback port free at the time of the call (for deployments that must know each other). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
