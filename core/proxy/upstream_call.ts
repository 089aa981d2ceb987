/**
 * One try of a request on one key: the upstream call with its timeout and client-abort link, and
 * the helpers that read an error answer so it can be classified and relayed.
 * @module
 */
import { type ActiveKey, classifyFailure, type Verdict } from "../rotation/mod.ts";
import type { Config } from "../config/mod.ts";
import { deadline } from "../utils/mod.ts";
import { HttpError } from "../errors.ts";
import { clientHeaders, type HeaderList, upstreamHeaders } from "./headers.ts";
import type { PreparedBody } from "./request_body.ts";
import type { ProxyRoute } from "./route.ts";

/** The outcome of one try: an answer (any status), or no answer at all. */
export type Attempt =
  | { kind: "response"; response: Response }
  | { kind: "failed"; verdict: Verdict; error: HttpError };

/** One call of {@linkcode callUpstream}. */
export interface UpstreamCall {
  /** The client request (for method and abort signal). */
  request: Request;
  /** Its headers, read once (`readHeaders`). */
  headers: HeaderList;
  /** Its route. */
  route: ProxyRoute;
  /** Full upstream URL. */
  target: string;
  /** The key to use. */
  key: ActiveKey;
  /** The prepared body. */
  body: PreparedBody;
  /** Configuration (timeouts, limits, gateway token). */
  config: Config;
  /** The fetch used for upstream calls. */
  fetch: typeof fetch;
  /** What is left of `UPSTREAM_TIMEOUT_MS` for this request, ms (default: all of it). */
  timeoutMs?: number;
}

/**
 * Sends the request upstream with a real key, waiting for response headers at most what is left of
 * `UPSTREAM_TIMEOUT_MS`. A client that leaves before then cancels the call; after that, relaying
 * the body cancels the upstream read when the client goes away.
 * @param call The request, route, target, key, body, configuration and fetch.
 * @returns The attempt's outcome.
 * @throws {HttpError} 413 when a streamed body passes the limit.
 */
export async function callUpstream(call: UpstreamCall): Promise<Attempt> {
  const { config, request, body } = call;
  const headers = upstreamHeaders(call.headers, {
    apiKey: call.key.value,
    bearer: call.route.kind === "openai",
    cfAigToken: config.cfAigToken,
  });
  const abort = new AbortController();
  const onClientAbort = () => abort.abort(new HttpError(499, "Client closed the request"));
  request.signal.addEventListener("abort", onClientAbort, { once: true });
  const cancelDeadline = deadline(
    call.timeoutMs ?? config.upstreamTimeoutMs,
    () => abort.abort(upstreamTimeout(config.upstreamTimeoutMs)),
  );
  try {
    const response = await call.fetch(call.target, {
      method: request.method,
      headers,
      body: body.body,
      redirect: "manual",
      signal: abort.signal,
      // @ts-ignore: `duplex` is required by fetch for streamed request bodies but missing from lib.dom.
      duplex: "half",
    });
    return { kind: "response", response };
  } catch (cause) {
    if (body.exceeded()) {
      throw new HttpError(413, `Request body exceeds ${config.maxBodyBytes} bytes`, { cause });
    }
    return failure(abort.signal.reason, cause);
  } finally {
    cancelDeadline();
    request.signal.removeEventListener("abort", onClientAbort);
  }
}

/** A call that got no answer: timed out, cancelled by the client, or unreachable. */
function failure(reason: unknown, cause: unknown): Attempt {
  if (reason instanceof HttpError) {
    return { kind: "failed", verdict: classifyFailure(reason.code === 504), error: reason };
  }
  return {
    kind: "failed",
    verdict: classifyFailure(false),
    error: new HttpError(502, "Upstream is unreachable", { cause }),
  };
}

/**
 * The answer when upstream sent no response headers in time, naming the limit that ran out.
 * @param limitMs `UPSTREAM_TIMEOUT_MS`.
 */
export function upstreamTimeout(limitMs: number): HttpError {
  return new HttpError(
    504,
    `Upstream sent no response within ${limitMs / 1000} s (UPSTREAM_TIMEOUT_MS, counted over ` +
      "every key tried)",
    { reason: "UPSTREAM_TIMEOUT" },
  );
}

/**
 * The response again, with its body already read as text.
 * @param response The upstream answer.
 * @param text Its body.
 */
export function rebuild(response: Response, text: string): Response {
  return new Response(text, {
    status: response.status,
    statusText: response.statusText,
    headers: clientHeaders(response.headers),
  });
}
