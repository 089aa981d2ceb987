/**
 * The Live API: BidiGenerateContent over a WebSocket, echoing turns with usage, and closing with
 * Google's codes and reasons for a missing or invalid key, a bad setup or a simulated failure.
 * @module
 */

import { takeFailure } from "./control.ts";
import { badRequest, errorReply, failureError } from "./errors.ts";
import { partsText } from "./generate.ts";
import { countFakeTokens, findModel } from "./models.ts";
import { type Ctx, enc, INVALID_KEY_MESSAGE, type Json, UNREGISTERED } from "./state.ts";
import type { Failure } from "./types.ts";
import { asArr, asObj, asStr, stripModelPrefix } from "./util.ts";
import { send } from "./wire.ts";

/** WebSocket close reasons are capped at 123 bytes. */
function closeReason(message: string): string {
  let out = message;
  while (enc.encode(out).byteLength > 123) out = out.slice(0, -1);
  return out;
}

function liveCloseCode(failure: Failure): number {
  switch (failure.kind) {
    case "bad_request":
      return 1007;
    case "quota":
    case "status":
    case "cut_stream":
      return 1011;
    default:
      return 1008;
  }
}

/** One Live socket and what it has sent. */
interface LiveSession {
  ctx: Ctx;
  socket: WebSocket;
  key: string | null;
  sent: string[];
  setupDone: boolean;
}

/** The Live API: a WebSocket speaking BidiGenerateContent. */
export async function serveLive(ctx: Ctx, constrained: boolean): Promise<Response> {
  const { st, req, url, rec } = ctx;
  rec.body = "";
  if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
    return send(ctx, errorReply(ctx, badRequest("This endpoint only accepts WebSocket upgrades.")));
  }
  // The Live endpoint reads its credential from the query string only.
  const key = url.searchParams.get("key");
  const token = constrained ? url.searchParams.get("access_token") : null;
  ctx.key = key;
  rec.key = key;
  const wait = st.delayMs;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const { socket, response } = Deno.upgradeWebSocket(req);
  rec.responseStatus = 101;
  st.sockets.add(socket);
  const live: LiveSession = { ctx, socket, key, sent: [], setupDone: false };

  socket.onopen = () => {
    if (!key && !token?.startsWith("auth_tokens/")) return closeWith(live, 1008, UNREGISTERED);
    if (key && st.fake.validKeys.size > 0 && !st.fake.validKeys.has(key)) {
      return closeWith(live, 1008, INVALID_KEY_MESSAGE);
    }
  };
  socket.onmessage = (event) => onLiveMessage(live, event);
  socket.onerror = () => {};
  socket.onclose = () => {
    st.sockets.delete(socket);
    ctx.finish();
  };
  try {
    response.headers.set("x-fake-request-index", String(ctx.index));
  } catch {
    // some runtimes hand back immutable upgrade headers; the index is then only in `requests`
  }
  return response;
}

function sendFrame(live: LiveSession, message: Json): void {
  const text = JSON.stringify(message);
  live.sent.push(text);
  live.ctx.rec.responseBody = live.sent.join("\n");
  live.socket.send(text);
}

function closeWith(live: LiveSession, code: number, reason: string): void {
  try {
    live.socket.close(code, closeReason(reason));
  } catch {
    // the client may have gone already
  }
}

async function onLiveMessage(live: LiveSession, event: MessageEvent): Promise<void> {
  let message: Json | undefined;
  try {
    const data = typeof event.data === "string" ? event.data : new TextDecoder().decode(
      event.data instanceof Blob ? await event.data.arrayBuffer() : event.data,
    );
    message = asObj(JSON.parse(data));
  } catch {
    message = undefined;
  }
  if (!message) return closeWith(live, 1007, "Invalid JSON payload received.");
  const hook = asObj(message.close);
  if (hook) return closeWith(live, Number(hook.code) || 1000, asStr(hook.reason) ?? "");
  if (!live.setupDone) return await liveSetup(live, message);
  liveTurn(live, message);
}

/** The first message: a setup naming a Live model, answered unless a failure rule applies. */
async function liveSetup(live: LiveSession, message: Json): Promise<void> {
  const setup = asObj(message.setup);
  if (!setup) return closeWith(live, 1007, "The first message must be a setup message.");
  const model = stripModelPrefix(asStr(setup.model) ?? "");
  if (!findModel(model)?.methods.includes("bidiGenerateContent")) {
    return closeWith(
      live,
      1008,
      `models/${model} is not found for API version v1beta, or is not supported for bidiGenerateContent.`,
    );
  }
  const picked = takeFailure(live.ctx.st, live.key, model, false);
  if (picked.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, picked.delayMs));
  if (picked.failure) {
    return closeWith(
      live,
      liveCloseCode(picked.failure),
      failureError(picked.failure, model, "").message,
    );
  }
  live.setupDone = true;
  return sendFrame(live, { setupComplete: {} });
}

/** A client turn (clientContent or realtime text): the echo, then turnComplete with usage. */
function liveTurn(live: LiveSession, message: Json): void {
  const content = asObj(message.clientContent);
  const realtime = asObj(message.realtimeInput);
  let text: string | undefined;
  let promptText = "";
  if (content && content.turnComplete !== false) {
    const turns = asArr(content.turns).map((t) => asObj(t) ?? {});
    promptText = turns.map(partsText).join(" ");
    const lastUser = [...turns].reverse().find((t) => t.role === undefined || t.role === "user");
    text = lastUser ? partsText(lastUser) : "";
  } else if (realtime && typeof realtime.text === "string") {
    text = realtime.text;
    promptText = text;
  }
  if (text === undefined) return;
  const reply = `Echo: ${text}`;
  const prompt = countFakeTokens(promptText);
  const response = countFakeTokens(reply);
  sendFrame(live, { serverContent: { modelTurn: { parts: [{ text: reply }] } } });
  sendFrame(live, {
    serverContent: { turnComplete: true },
    usageMetadata: {
      promptTokenCount: prompt,
      responseTokenCount: response,
      totalTokenCount: prompt + response,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
      responseTokensDetails: [{ modality: "TEXT", tokenCount: response }],
    },
  });
}
