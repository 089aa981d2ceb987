/**
 * What the proxy's stages share: the app's dependencies and services ({@linkcode ProxyApp}), one
 * request on its way through the stages ({@linkcode ProxyExchange}), and the failover loop's
 * memory of the keys it tried ({@linkcode FailoverState}).
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { CompiledPrices } from "../cost/mod.ts";
import type { KeyCaps, TokenQuota } from "../limits/mod.ts";
import type { InFlight, Logger } from "../logs/mod.ts";
import type {
  ActiveKey,
  Affinity,
  KeyPool,
  ModelBook,
  PoolSync,
  Registry,
  TransientFailure,
  Verdict,
} from "../rotation/mod.ts";
import type { LogRecord, TokenRecord } from "../store/mod.ts";
import type { RegionalRelay, RelayCaller } from "./regional_relay.ts";
import type { HeaderList } from "./headers.ts";
import type { PreparedBody } from "./request_body.ts";
import type { RequestLog } from "./request_log.ts";
import type { ProxyRoute } from "./route.ts";
import type { TokenAccounting } from "./token_accounting.ts";
import type { Attempt } from "./upstream_call.ts";

/** Relays a Live API WebSocket: given the client's upgrade request and the upstream URL. */
export type LiveBridge = (request: Request, upstreamUrl: string) => Response;

/** Everything the proxy handler needs, injected. */
export interface ProxyDeps {
  /** Validated configuration. */
  config: Config;
  /** In-memory keys and tokens. */
  registry: Registry;
  /** Rotation state. */
  pool: KeyPool;
  /** Models upstream has confirmed: they alone get per-model state. */
  models: ModelBook;
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Resource-to-key pins. */
  affinity: Affinity;
  /** Proxy tokens' allow-lists and limits. */
  tokens: TokenQuota;
  /** Keys' proactive caps. */
  caps: KeyCaps;
  /** The current model prices (costs of records, budget reservations). */
  prices: () => CompiledPrices;
  /** The fetch used for upstream calls. */
  fetch: typeof fetch;
  /** Clock (epoch ms). */
  now: () => number;
  /** Waits (backoff, waiting for a key to free up). */
  sleep: (ms: number) => Promise<void>;
  /** Logger. */
  logger: Logger;
  /** Platform WebSocket relay, when the platform has one. */
  liveBridge?: LiveBridge | undefined;
  /** The region serving one request (Cloudflare's colo), when the platform tells per request. */
  regionOf?: ((request: Request) => string | null | undefined) | undefined;
  /** Regional failover to other deployments (`FALLBACK_PROXY_URLS`). */
  relay?: RegionalRelay | undefined;
  /** Receives every request's log record once the response has ended. */
  onFinish?: (record: LogRecord) => void;
  /** Counts requests whose record is not finished yet. */
  inFlight?: InFlight;
}

/** The dependencies and the services built from them once per app. */
export interface ProxyApp extends ProxyDeps {
  /** Starts, fills and completes request records. */
  log: RequestLog;
  /** Admits requests for their tokens and charges them when they end. */
  accounting: TokenAccounting;
}

/** The key a request must use: the one whose project owns a resource the request names. */
export interface PinnedKey {
  /** The key. */
  key: ActiveKey;
  /** The resource (`files/abc`, `upload:<id>`...). */
  resource: string;
}

/** One request on its way through the stages. */
export interface ProxyExchange {
  /** The app's dependencies and services. */
  app: ProxyApp;
  /** The client's request. */
  request: Request;
  /** Its URL, parsed once. */
  url: URL;
  /** Its headers, read once (`readHeaders`): every stage looks here, not at `request.headers`. */
  headers: HeaderList;
  /** The kind of Gemini call its path makes. */
  route: ProxyRoute;
  /** The record that follows it to the log. */
  record: LogRecord;
  /** The client's proxy token, once authenticated (null for relays and token-less uploads). */
  token: TokenRecord | null;
  /** The deployment that relayed the request here, when it came as a relay. */
  relayed: RelayCaller | null;
  /** The key the request must use, when it names a resource pinned to one. */
  pinned: PinnedKey | null;
  /** The model asked for: the path's, until the body is read. */
  model: string | null;
  /** Whether the answer's headers already carry `x-request-id` (the relay puts it in). */
  idSent: boolean;
}

/** An exchange whose body has been read (`readBody`). */
export interface ReadExchange extends ProxyExchange {
  /** The body as it will go upstream. */
  body: PreparedBody;
}

/** What the failover loop remembers between tries. */
export interface FailoverState {
  /** The full upstream URL (without the key). */
  target: string;
  /** Ids of the keys tried. */
  tried: Set<string>;
  /** Keys that failed transiently before another answered (their health streaks). */
  transient: TransientFailure[];
  /** The last try's outcome (an error answer already read, with its body as text). */
  last: Attempt | null;
  /** The verdict on the last try. */
  lastVerdict: Verdict | null;
  /**
   * What is left of the one wait for headers per request, shared by every key tried: a platform
   * whose gateway gives up on a silent request (Supabase: 150 s) still gets the proxy's own 504
   * first. Started with the first call.
   */
  headersLeft: (() => number) | null;
}
