/**
 * Relays a Live API WebSocket between the client and upstream on Deno, frame for frame, keeping
 * close codes and reasons.
 * @module
 */

/** Close codes a WebSocket endpoint may not send itself; replaced when relaying. */
const RESERVED = new Set([1005, 1006, 1015]);

/**
 * Upgrades the client connection and opens the upstream one.
 * @param request The client's upgrade request.
 * @param upstreamUrl `wss://...` URL with the real key in its query.
 * @returns The 101 response for the client.
 */
export function denoLiveBridge(request: Request, upstreamUrl: string): Response {
  const { socket: client, response } = Deno.upgradeWebSocket(request);
  const upstream = new WebSocket(upstreamUrl);
  upstream.binaryType = "arraybuffer";
  client.binaryType = "arraybuffer";
  const pending: (string | ArrayBuffer)[] = [];

  client.onmessage = (event) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(event.data);
    else if (upstream.readyState === WebSocket.CONNECTING) pending.push(event.data);
  };
  upstream.onopen = () => {
    for (const frame of pending.splice(0)) upstream.send(frame);
  };
  upstream.onmessage = (event) => {
    if (client.readyState === WebSocket.OPEN) client.send(event.data);
  };
  upstream.onclose = (event) => closeWith(client, event.code, event.reason);
  upstream.onerror = () => closeWith(client, 1011, "Upstream connection failed");
  client.onclose = (event) => closeWith(upstream, event.code, event.reason);
  client.onerror = () => closeWith(upstream, 1011, "Client connection failed");
  return response;
}

function closeWith(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
  const safeCode = RESERVED.has(code) ? 1011 : code;
  try {
    socket.close(safeCode, reason.slice(0, 120));
  } catch {
    socket.close();
  }
}
