/**
 * Relays a Live API WebSocket on Cloudflare Workers: the client gets one end of a
 * `WebSocketPair`, the Worker opens the upstream socket with `fetch` and an `Upgrade: websocket`
 * header, and frames flow both ways with close codes kept.
 * @module
 */
import type { WebSocketPairLike, WorkersResponseInit, WorkersWebSocket } from "./workers_types.ts";

/** Close codes an endpoint may not send itself; replaced when relaying. */
const RESERVED = new Set([1005, 1006, 1015]);
/** `WebSocket.OPEN`. */
const OPEN = 1;

/**
 * Accepts the client's socket at once and connects upstream in the background; frames the client
 * sends before upstream is open are held and sent in order.
 * @param _request The client's upgrade request (the pair needs nothing from it).
 * @param upstreamUrl `wss://...` URL with the real key in its query.
 * @returns The 101 answer carrying the client's end of the pair.
 */
export function workersLiveBridge(_request: Request, upstreamUrl: string): Response {
  const Pair = (globalThis as unknown as { WebSocketPair: new () => WebSocketPairLike })
    .WebSocketPair;
  const pair = new Pair();
  const client = pair[0];
  const server = pair[1];
  server.accept();
  const pending: unknown[] = [];
  let upstream: WorkersWebSocket | null = null;
  let clientClosed: { code: number; reason: string } | null = null;

  server.addEventListener("message", (event) => {
    const data = (event as MessageEvent).data;
    if (upstream) upstream.send(data);
    else pending.push(data);
  });
  server.addEventListener("close", (event) => {
    const { code, reason } = event as CloseEvent;
    clientClosed = { code, reason };
    if (upstream) closeWith(upstream, code, reason);
  });
  server.addEventListener("error", () => {
    if (upstream) closeWith(upstream, 1011, "Client connection failed");
  });

  void connect(upstreamUrl).then((socket) => {
    if (!socket) return closeWith(server, 1011, "Upstream refused the WebSocket");
    socket.accept();
    upstream = socket;
    if (clientClosed) return closeWith(socket, clientClosed.code, clientClosed.reason);
    for (const data of pending.splice(0)) socket.send(data as string);
    socket.addEventListener("message", (event) => {
      if (server.readyState === OPEN) server.send((event as MessageEvent).data);
    });
    socket.addEventListener("close", (event) => {
      const { code, reason } = event as CloseEvent;
      closeWith(server, code, reason);
    });
    socket.addEventListener("error", () => closeWith(server, 1011, "Upstream connection failed"));
  });

  const init: WorkersResponseInit = { status: 101, webSocket: client };
  return new Response(null, init);
}

async function connect(url: string): Promise<WorkersWebSocket | null> {
  try {
    const response = await fetch(url.replace(/^ws/, "http"), {
      headers: { upgrade: "websocket" },
    });
    return (response as Response & { webSocket?: WorkersWebSocket | null }).webSocket ?? null;
  } catch {
    return null;
  }
}

function closeWith(socket: WorkersWebSocket, code: number, reason: string): void {
  const safeCode = RESERVED.has(code) || code < 1000 ? 1011 : code;
  try {
    socket.close(safeCode, reason.slice(0, 120));
  } catch {
    // Already closing or closed.
  }
}
