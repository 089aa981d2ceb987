/**
 * The proxy itself: every Gemini API path, as a pipeline of named stages, each a small module
 * with one job, all passing one {@linkcode ProxyExchange} along:
 *
 * ```
 * route ─ screen ─ authenticate ─ read body ─ admit ─ pin ─┬─ pick key ─ call upstream ─ judge ─┬─ relay
 *   │                    │                                 └──────── next key (failover) ────────┤
 *   │                    └─ (Live API) admit ─ open the WebSocket bridge                          └─ relay out (fallback deployment)
 *   └────────── any stage may refuse: the proxy's own answer in Google's envelope ── record
 * ```
 *
 * 1. route (here): the path's kind of call; a path outside the Gemini API is a 404.
 * 2. screen (`screen.ts`): method, encoded separators, header and declared body sizes.
 * 3. authenticate (`authenticate.ts`): proxy token, relay signature or upload session.
 * 4. read body (`read_body.ts`): buffered to replay on another key when small, else streamed.
 * 5. admit (`admit.ts`): the token's allow-list, limits and budget.
 * 6. pin (`pin.ts`): a resource the request names must use the key that owns it.
 * 7. pick key (`pick_key.ts`), 8. call upstream (`call_key.ts`), 9. judge (`judge.ts`): the
 *    failover loop (`failover.ts`) repeats them while nothing has reached the client.
 * 10. relay (`relay.ts`, `respond.ts`): the answer streams to the client untouched; or relay out
 *    (`relay_out.ts`) to another deployment when this region is refused.
 * 11. record (`request_log.ts`, `error_answer.ts`): the request's log record completes when the
 *    last byte has gone, and is handed to the log queue, metrics and token accounting.
 * @module
 */
import { HttpError } from "../errors.ts";
import { admit } from "./admit.ts";
import { authenticate } from "./authenticate.ts";
import { allowListedOrigin } from "./cors.ts";
import { answerError, setHeader } from "./error_answer.ts";
import type { ProxyApp, ProxyDeps, ProxyExchange, ReadExchange } from "./exchange.ts";
import { failover } from "./failover.ts";
import { listedHeader, readHeaders } from "./headers.ts";
import { askForUsage } from "./include_usage.ts";
import { openLive } from "./live.ts";
import { pinResources } from "./pin.ts";
import { readBody, withBody } from "./read_body.ts";
import { relayOut } from "./relay_out.ts";
import { createRequestLog } from "./request_log.ts";
import { checkPath, readQuery } from "./request_url.ts";
import { classifyRoute } from "./route.ts";
import { screen } from "./screen.ts";
import { createTokenAccounting } from "./token_accounting.ts";

/**
 * Creates the handler for every Gemini API path.
 * @param deps Injected configuration, state and I/O.
 * @returns A function from a client request to the response relayed from upstream, with its
 *   `x-request-id` and, for a browser's request, its CORS headers.
 * @throws {HttpError} 404 (thrown by the handler) for a path outside the Gemini API.
 */
export function createProxyHandler(
  deps: ProxyDeps,
): (request: Request, client?: string | null) => Promise<Response> {
  const app = proxyApp(deps);
  // Not an async function: one `then` is the only promise this layer adds per request.
  return function proxyHandler(request: Request, client?: string | null): Promise<Response> {
    const exchange = begin(app, { request, client });
    return serve(exchange).then((response) => {
      if (!exchange.idSent) {
        setHeader(response, { name: "x-request-id", value: exchange.record.id });
      }
      return allowListedOrigin(exchange.headers, response);
    }, (error) => allowListedOrigin(exchange.headers, answerError(exchange, error)));
  };
}

/** The services built once per app: the record builder and the token accounting. */
function proxyApp(deps: ProxyDeps): ProxyApp {
  // Each admitted request's token is charged, and every record gets its cost, when it finishes.
  const accounting = createTokenAccounting(deps.tokens, deps.prices);
  const log = createRequestLog({
    config: deps.config,
    registry: deps.registry,
    now: deps.now,
    logger: deps.logger,
    regionOf: deps.regionOf,
    inFlight: deps.inFlight,
    onFinish(record) {
      accounting.account(record);
      deps.onFinish?.(record);
    },
  });
  return { ...deps, log, accounting };
}

/** Stage 1, route: the kind of call the path makes, and the record that follows the request. */
function begin(
  app: ProxyApp,
  arrival: { request: Request; client: string | null | undefined },
): ProxyExchange {
  const { request } = arrival;
  const url = new URL(request.url);
  checkPath(url.pathname);
  const route = classifyRoute(url.pathname, readQuery(url.search));
  if (!route) {
    throw new HttpError(404, `Path "${url.pathname}" is not part of the Gemini API`);
  }
  const headers = readHeaders(request.headers);
  return {
    app,
    request,
    url,
    headers,
    route,
    record: app.log.begin(request, route, {
      client: arrival.client,
      userAgent: listedHeader(headers, "user-agent"),
    }),
    token: null,
    relayed: null,
    pinned: null,
    model: route.model,
    idSent: false,
  };
}

/**
 * Stages 2 to 11 for one request. A stage that can finish at once (most do, most of the time)
 * answers undefined instead of a promise, and is awaited only when it did not: each `await`
 * costs a promise and a turn of the microtask queue, per request.
 */
async function serve(exchange: ProxyExchange): Promise<Response> {
  screen(exchange);
  const authenticating = authenticate(exchange);
  if (authenticating) await authenticating;
  if (exchange.route.kind === "live") return await openLive(exchange);
  const read = withBody(exchange, await readBody(exchange));
  const admitting = admit(read, read.body);
  if (admitting) await admitting;
  const pinning = pinResources(read);
  if (pinning) await pinning;
  const checking = readyToSend(read);
  if (checking) await checking;
  if (read.app.relay?.blocked(read.record.region)) {
    const answer = await relayOut(read, "blocked_colo");
    if (answer) return answer;
  }
  return await failover(read);
}

/**
 * A relayed body is the one that was signed; OpenAI streams ask upstream for their usage.
 * @returns Undefined when ready, else a promise of the relay's check.
 */
function readyToSend(exchange: ReadExchange): Promise<void> | undefined {
  const { relayed, body, route, request } = exchange;
  // Every stream is charged: OpenAI streams ask upstream for usage even when the client did not.
  route.hideUsage = askForUsage(route, request.method, body);
  if (relayed) return relayed.checkBody(body.body instanceof Uint8Array ? body.body : null);
}
