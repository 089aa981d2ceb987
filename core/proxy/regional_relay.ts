/**
 * Regional failover between deployments.
 *
 * Gemini refuses some regions ("User location is not supported"), and a Cloudflare colo such as
 * HKG may serve users whose requests Google then refuses. When upstream answers that, or the
 * deployment knows it runs in a blocked colo, the request is relayed once to another Gemini Proxy
 * deployment (`FALLBACK_PROXY_URLS`), which answers it with its own keys.
 *
 * Between deployments the client's token is never forwarded: the relaying deployment has already
 * authenticated the client and applied its limits, and signs the request with the shared
 * `RELAY_SECRET` (HMAC-SHA256 over time, origin region, method, path, query and the SHA-256 of the
 * body). The receiving deployment verifies the signature in constant time and serves the request as
 * a trusted service caller. A relayed request carries a hop header and is never relayed again, so
 * loops are impossible.
 *
 * A relay the fallback refuses (secrets that differ, a stale clock) is the deployments' problem,
 * never the client's: the receiving side logs a warning and answers 401, the relaying side logs an
 * error and answers its client `502 UNAVAILABLE` with reason `RELAY_REJECTED`, never the 401 an
 * SDK would read as a bad token.
 * @module
 */
import { type Config, parseFallbackEntry, REGION_HEADER } from "../config/mod.ts";
import { isPrivateHeader } from "./headers.ts";
import { HttpError } from "../errors.ts";
import type { Logger } from "../logs/mod.ts";
import { timingSafeEqual } from "../secrets/mod.ts";
import { readBounded } from "../utils/mod.ts";
import {
  parseRelayHeader,
  regionLabel,
  relaySigner,
  sha256,
  signaturePayload,
} from "./relay_signature.ts";

/** Marks a request that arrived as a relay: such a request is never relayed again. */
export const HOP_HEADER = "x-gemini-proxy-hop";
/** Carries the relaying deployment's signature: `v1;t=<ms>;from=<region>;body=<sha256>;sig=<hmac>`. */
export const RELAY_HEADER = "x-gemini-proxy-relay";
/** Largest clock difference accepted between two deployments, ms. */
const MAX_SKEW_MS = 5 * 60_000;
/** How long a fallback that could not be reached is passed over, ms. */
const DOWN_FOR_MS = 30_000;

/** Why a request was relayed. */
export type RelayReason = "location" | "blocked_colo";

/** A verified incoming relay. */
export interface RelayCaller {
  /** Region of the deployment that relayed the request. */
  from: string;
  /** Checks that the body is the one that was signed. @throws {HttpError} 400 when it is not. */
  checkBody(body: Uint8Array | null): Promise<void>;
}

/** What {@linkcode RegionalRelay.forward} sends. */
export interface ForwardOptions {
  /** Gemini API path, as the proxy would send it upstream. */
  path: string;
  /** Query string without the client's `key`, with its `?`, or empty. */
  search: string;
  /** The buffered body (relays need a replayable body). */
  body: Uint8Array<ArrayBuffer> | null;
  /** Region of this deployment (sent along, signed). */
  region: string | null;
  /** Why the request is relayed (logged). */
  reason: RelayReason;
}

/** A fallback's answer. */
export interface Relayed {
  /** The fallback deployment's response, body unread (this deployment's 502 when refused). */
  response: Response;
  /** Origin of the fallback deployment it came from. */
  target: string;
  /** The fallback refused the relay itself (its reason, e.g. `RELAY_SIGNATURE_INVALID`). */
  refused?: string;
}

/** Regional failover, as the proxy handler uses it. */
export interface RegionalRelay {
  /** Whether requests served in `region` should go straight to a fallback. */
  blocked(region: string | null): boolean;
  /**
   * Whether this request may be relayed: fallbacks are configured, it did not arrive through a
   * relay (no hop header), and its body can be sent again.
   */
  mayRelay(request: Request, replayable: boolean): boolean;
  /**
   * Verifies an incoming relay.
   * @returns null at once when the request is not a relay (no relay header), else a promise of
   * the verified caller.
   * @throws {HttpError} 401 when it claims to be one and the signature is missing, stale or wrong
   * (as the promise's rejection).
   */
  accept(request: Request, path: string, search: string): Promise<RelayCaller> | null;
  /**
   * Sends the request, once, to a fallback deployment.
   * @returns The answer, or null when no fallback could be reached. A fallback's refusal of the
   * relay comes back as this deployment's `502 RELAY_REJECTED`, with `refused` set.
   */
  forward(request: Request, options: ForwardOptions): Promise<Relayed | null>;
}

/** Options of {@linkcode createRegionalRelay}. */
export interface RegionalRelayOptions {
  /** Fallbacks, blocked colos, the shared secret and the header timeout. */
  config: Pick<Config, "fallbackProxyUrls" | "blockedColos" | "relaySecret" | "upstreamTimeoutMs">;
  /** fetch used to reach fallbacks. */
  fetch: typeof fetch;
  /** Clock (epoch ms). */
  now: () => number;
  /** Logger. */
  logger: Logger;
}

/**
 * Creates the relay.
 * @param options Configuration, fetch, clock and logger.
 * @returns The relay the proxy handler consults.
 * @example
 * ```ts
 * const relay = createRegionalRelay({ config, fetch, now: Date.now, logger });
 * if (relay.blocked("HKG") && relay.mayRelay(request, true)) await relay.forward(request, opts);
 * ```
 */
export function createRegionalRelay(options: RegionalRelayOptions): RegionalRelay {
  return new Relay(options);
}

/** The relay behind {@linkcode createRegionalRelay}. */
class Relay implements RegionalRelay {
  #options: RegionalRelayOptions;
  #blockedColos: Set<string>;
  /** Fallbacks that could not be reached, until when they are passed over (epoch ms). */
  #downUntil = new Map<string, number>();
  #sign: (payload: string) => Promise<string>;

  constructor(options: RegionalRelayOptions) {
    this.#options = options;
    this.#blockedColos = new Set(options.config.blockedColos.map((c) => c.toUpperCase()));
    this.#sign = relaySigner(options.config.relaySecret ?? "");
  }

  blocked(region: string | null): boolean {
    return region !== null && this.#blockedColos.has(region.toUpperCase());
  }

  mayRelay(request: Request, replayable: boolean): boolean {
    const { config } = this.#options;
    return replayable && config.fallbackProxyUrls.length > 0 &&
      config.relaySecret !== undefined &&
      !request.headers.has(HOP_HEADER);
  }

  accept(request: Request, path: string, search: string): Promise<RelayCaller> | null {
    const header = request.headers.get(RELAY_HEADER);
    return header === null ? null : this.#verify(request, { header, path, search });
  }

  async #verify(
    request: Request,
    claim: { header: string; path: string; search: string },
  ): Promise<RelayCaller> {
    const { header, path, search } = claim;
    if (!this.#options.config.relaySecret) {
      throw this.#refuse("This deployment does not accept relays: RELAY_SECRET is not set", {
        reason: "RELAY_NOT_ACCEPTED",
      });
    }
    const fields = parseRelayHeader(header);
    const t = Number(fields?.t);
    if (!fields || !Number.isFinite(t) || Math.abs(this.#options.now() - t) > MAX_SKEW_MS) {
      throw this.#refuse("Relay signature is missing, malformed or expired", {
        reason: "RELAY_SIGNATURE_INVALID",
      });
    }
    const expected = await this.#sign(signaturePayload({
      t: fields.t!,
      from: fields.from!,
      method: request.method,
      path,
      search,
      bodyHash: fields.body!,
    }));
    if (!timingSafeEqual(fields.sig!, expected)) {
      throw this.#refuse("Relay signature does not match", {
        reason: "RELAY_SIGNATURE_INVALID",
        from: regionLabel(fields.from!),
      });
    }
    return verifiedCaller(fields.from!, fields.body!);
  }

  async forward(request: Request, forward: ForwardOptions): Promise<Relayed | null> {
    const base = this.#pickFallback();
    if (!base) return null;
    const entry = parseFallbackEntry(base);
    if ("error" in entry) return null; // parseConfig refuses such entries
    const target = new URL(entry.base + forward.path + forward.search);
    const headers = await this.#signedHeaders(request, { forward, target });
    if (entry.region) headers.set(REGION_HEADER, entry.region);
    try {
      return await this.#send(request, { target, headers, body: forward.body }, (response) => {
        this.#downUntil.delete(base);
        return this.#answered(response, { target: target.origin, why: forward.reason });
      });
    } catch (error) {
      if (!request.signal.aborted) this.#downUntil.set(base, this.#options.now() + DOWN_FOR_MS);
      this.#options.logger.log("warn", "fallback deployment unreachable", {
        target: target.origin,
        reason: forward.reason,
        error,
      });
      return null;
    }
  }

  /** A fallback's answer; a 401 is about the relay, never the client's credentials. */
  async #answered(response: Response, relay: { target: string; why: RelayReason }) {
    if (response.status === 401) return await this.#refused(response, relay);
    this.#options.logger.log("info", "relayed to a fallback deployment", {
      target: relay.target,
      reason: relay.why,
      status: response.status,
    });
    return { response, target: relay.target };
  }

  /** The client's headers less private ones, with the hop mark and the signature. */
  async #signedHeaders(
    request: Request,
    relay: { forward: ForwardOptions; target: URL },
  ): Promise<Headers> {
    const { forward, target } = relay;
    const from = regionLabel(forward.region);
    const t = String(this.#options.now());
    const bodyHash = await sha256(forward.body);
    const sig = await this.#sign(signaturePayload({
      t,
      from,
      method: request.method,
      path: forward.path,
      search: target.search,
      bodyHash,
    }));
    const headers = relayHeaders(request.headers);
    headers.set(HOP_HEADER, "1");
    headers.set(RELAY_HEADER, `v1;t=${t};from=${from};body=${bodyHash};sig=${sig}`);
    return headers;
  }

  /**
   * Sends the relay and hands its answer on, linked to the client and the header timeout until
   * then; the body is then relayed as a stream, whose cancellation reaches the fallback when the
   * client leaves.
   */
  async #send(
    request: Request,
    relay: { target: URL; headers: Headers; body: Uint8Array<ArrayBuffer> | null },
    answered: (response: Response) => Promise<Relayed>,
  ): Promise<Relayed> {
    const abort = new AbortController();
    const onClientAbort = () => abort.abort();
    request.signal.addEventListener("abort", onClientAbort, { once: true });
    const timer = setTimeout(() => abort.abort(), this.#options.config.upstreamTimeoutMs);
    try {
      return await answered(
        await this.#options.fetch(relay.target, {
          method: request.method,
          headers: relay.headers,
          body: relay.body,
          redirect: "manual",
          signal: abort.signal,
        }),
      );
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onClientAbort);
    }
  }

  #pickFallback(): string | null {
    const now = this.#options.now();
    const urls = this.#options.config.fallbackProxyUrls;
    const up = urls.find((url) => (this.#downUntil.get(url) ?? 0) <= now);
    return up ?? urls[0] ?? null;
  }

  /** Logs an incoming relay's refusal for this deployment's operator and builds the 401. */
  #refuse(message: string, fields: { reason: string; from?: string }): HttpError {
    this.#options.logger.log("warn", `relay refused: ${message}`, fields);
    return new HttpError(401, message, { reason: fields.reason });
  }

  /** A fallback's refusal of the relay, as this deployment answers its client. */
  async #refused(
    response: Response,
    relay: { target: string; why: RelayReason },
  ): Promise<Relayed> {
    const text = await readBounded(response);
    let reason = "unknown";
    try {
      const detail = (JSON.parse(text) as { error?: { details?: Array<{ reason?: unknown }> } })
        .error?.details?.find((d) => typeof d?.reason === "string");
      if (typeof detail?.reason === "string") reason = detail.reason.slice(0, 64);
    } catch {
      // Not the proxy's envelope: the reason stays unknown.
    }
    this.#options.logger.log(
      "error",
      "fallback deployment refused the relay: RELAY_SECRET must be the same on both deployments and their clocks within 5 minutes",
      { target: relay.target, reason, relayReason: relay.why },
    );
    const error = new HttpError(502, "A fallback deployment refused to serve this request", {
      reason: "RELAY_REJECTED",
    });
    return { response: error.toResponse(), target: relay.target, refused: reason };
  }
}

/** A verified relay: its origin, and the check that its body is the one signed. */
function verifiedCaller(from: string, bodyHash: string): RelayCaller {
  return {
    from,
    async checkBody(body) {
      if (!timingSafeEqual(await sha256(body), bodyHash)) {
        throw new HttpError(400, "Relayed body does not match its signature", {
          reason: "RELAY_BODY_MISMATCH",
        });
      }
    },
  };
}

/**
 * The headers relayed to a fallback: the client's, less credentials, addresses and hop-by-hop
 * headers.
 * @param incoming Client request headers.
 */
export function relayHeaders(incoming: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (isPrivateHeader(name)) continue;
    out.set(name, value);
  }
  return out;
}
