/**
 * The Live API WebSocket relay on Node.js, with the `ws` package. Node.js hands upgrade requests
 * to an `upgrade` event instead of the request handler, so {@linkcode serveUpgrades} runs each
 * through the app (token check, model allow-list, key pick) like any request; when the app
 * chooses to relay, {@linkcode nodeLiveBridge} notes the upstream URL, the client's socket is
 * upgraded, and frames flow both ways, text and binary kept apart, with close codes kept.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { STATUS_CODES } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
// @ts-types="@types/ws"
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { HttpError } from "../../core/errors.ts";

/** Most bytes of a refused upgrade's answer written back to the client. */
const MAX_REFUSAL_BYTES = 64 * 1024;
/** Close codes an endpoint may not send itself; replaced when relaying. */
const RESERVED = new Set([1005, 1006, 1015]);

/** The upgrade being decided: the app sets `upstreamUrl` when it relays. */
interface PendingUpgrade {
  upstreamUrl: string | null;
}

const pending = new AsyncLocalStorage<PendingUpgrade>();

/**
 * The app's Live relay on Node.js: accepts the relay for the upgrade request being served.
 * @param _request The client's upgrade request.
 * @param upstreamUrl `wss://...` URL with the real key in its query.
 * @returns A placeholder answer: the upgrade itself is done by {@linkcode serveUpgrades}.
 * @throws {HttpError} 400 when the request did not come as an HTTP upgrade.
 */
export function nodeLiveBridge(_request: Request, upstreamUrl: string): Response {
  const upgrade = pending.getStore();
  if (!upgrade) {
    throw new HttpError(400, "The Live API needs a WebSocket upgrade request");
  }
  upgrade.upstreamUrl = upstreamUrl;
  return new Response(null, { status: 200 });
}

/**
 * Serves WebSocket upgrades of a Node.js server through the app.
 * @param server The HTTP server.
 * @param fetch The app's request handler.
 */
export function serveUpgrades(
  server: Server,
  fetch: (request: Request) => Response | Promise<Response>,
): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    void decide(incoming, fetch).then(({ upstreamUrl, response }) => {
      if (upstreamUrl === null) return refuse(socket, response);
      wss.handleUpgrade(incoming, socket, head, (client) => relay(client, upstreamUrl));
    });
  });
  server.on("close", () => wss.close());
}

async function decide(
  incoming: IncomingMessage,
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<{ upstreamUrl: string | null; response: Response }> {
  const upgrade: PendingUpgrade = { upstreamUrl: null };
  let request: Request;
  try {
    request = toRequest(incoming);
  } catch {
    return { upstreamUrl: null, response: new HttpError(400, "Malformed request").toResponse() };
  }
  try {
    const response = await pending.run(upgrade, () => fetch(request));
    return { upstreamUrl: upgrade.upstreamUrl, response };
  } catch {
    return { upstreamUrl: null, response: new HttpError(500, "Internal proxy error").toResponse() };
  }
}

/** The upgrade request as a fetch `Request` (`//ws/...` paths kept as they came). */
function toRequest(incoming: IncomingMessage): Request {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const host = incoming.headers.host ?? "localhost";
  return new Request(new URL(`http://${host}${incoming.url ?? "/"}`), {
    method: incoming.method ?? "GET",
    headers,
  });
}

/**
 * Answers an upgrade the app did not relay (401, 403, 429...) with its status, headers and body
 * (the first {@linkcode MAX_REFUSAL_BYTES}: an error envelope fits, a proxied answer to an upgrade
 * request on another path is cut there), then closes the connection.
 */
async function refuse(socket: Duplex, response: Response): Promise<void> {
  const body = await readCapped(response, MAX_REFUSAL_BYTES);
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (!/^(connection|content-length|transfer-encoding|upgrade)$/i.test(name)) {
      lines.push(`${name}: ${value}`);
    }
  });
  lines.push("connection: close", `content-length: ${body.byteLength}`, "", "");
  if (socket.destroyed) return;
  socket.write(lines.join("\r\n"));
  socket.end(body);
}

async function readCapped(response: Response, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  try {
    while (reader && size < max) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, max - size));
      size += Math.min(value.byteLength, max - size);
    }
  } catch {
    // A body that fails midway: send what came.
  } finally {
    await reader?.cancel().catch(() => {});
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Relays frames between the client and upstream until either side closes. */
function relay(client: WebSocket, upstreamUrl: string): void {
  const upstream = new WebSocket(upstreamUrl, { perMessageDeflate: false });
  const queued: [RawData, boolean][] = [];
  client.on("message", (data, isBinary) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
    else if (upstream.readyState === WebSocket.CONNECTING) queued.push([data, isBinary]);
  });
  upstream.on("open", () => {
    for (const [data, isBinary] of queued.splice(0)) upstream.send(data, { binary: isBinary });
  });
  upstream.on("message", (data, isBinary) => {
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
  upstream.on("close", (code, reason) => closeWith(client, code, reason.toString()));
  upstream.on("error", () => closeWith(client, 1011, "Upstream connection failed"));
  client.on("close", (code, reason) => closeWith(upstream, code, reason.toString()));
  client.on("error", () => closeWith(upstream, 1011, "Client connection failed"));
}

function closeWith(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
  const safeCode = RESERVED.has(code) ? 1011 : code;
  try {
    socket.close(safeCode, reason.slice(0, 120));
  } catch {
    // A reason too long in bytes, or a socket still connecting: end it without one.
    socket.terminate();
  }
}
