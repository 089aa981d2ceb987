/**
 * What a host hands the core ({@linkcode AppOptions}) and what it gets back
 * ({@linkcode GatewayApp}).
 * @module
 */
import type { Hono } from "hono";
import type { UnsharedStore } from "../admin/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Logger, LogLevel, LogWriter } from "../logs/mod.ts";
import type { LiveBridge, PeerOf } from "../proxy/mod.ts";
import type { KeyPool, PoolSync, Registry, ValidationResult } from "../rotation/mod.ts";
import type { Store } from "../store/mod.ts";
import type { Manifest, SiteAssets } from "../web/mod.ts";

/** Options of `createApp`. */
export interface AppOptions {
  /** Validated configuration; `secretKey` must be set. */
  config: Config;
  /** Store backend. */
  store: Store;
  /** fetch used for upstream calls (default: the global one). */
  fetch?: typeof fetch;
  /** Clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Receives log lines, already redacted (default: the console). */
  logSink?: (level: LogLevel, line: string) => void;
  /** Platform WebSocket relay for the Live API. */
  liveBridge?: LiveBridge;
  /** Hands background work to the platform (Cloudflare's `ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Waits (default: `setTimeout`); tests inject one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Set by adapters whose store lives in one instance while the host runs many (`STORE=memory`
   * on Workers, Edge Functions, Deno Deploy): admin writes answer 409 and the console says why.
   */
  unsharedStore?: UnsharedStore;
  /** The admin console's built browser assets (`deno task build`); null serves pages without them. */
  assets?: SiteAssets | null;
  /**
   * The admin console's route manifest (`routes/_manifest.gen.ts`), handed in by the host that
   * serves the console; without it the app serves the proxy, the admin JSON API, `/healthz` and
   * `/metrics`, and its bundle carries no page, island or their packages (Workers, Vercel).
   */
  manifest?: Manifest;
  /**
   * Loads the console's route manifest on the first console request instead (ignored when
   * `manifest` is given): its pages, islands and their packages stay out of memory until someone
   * opens the console.
   */
  loadManifest?: () => Promise<Manifest>;
  /**
   * The region serving one request, for platforms that tell per request (Cloudflare's
   * `request.cf.colo`); `config.region` is used when it gives none.
   */
  regionOf?: (request: Request) => string | null | undefined;
  /**
   * The socket peer's address of a request (default: Deno's `remoteAddr` from the serve handler's
   * info); Workers pass Cloudflare's `cf-connecting-ip`. With `TRUST_PROXY` it gives way to the
   * trusted `X-Forwarded-For` entry, for request logs and the sign-in throttle alike.
   */
  peerOf?: PeerOf;
}

/** A built application. */
export interface GatewayApp {
  /** The Hono app, for mounting or testing. */
  app: Hono;
  /**
   * Handles one request: all a platform needs. `env` reaches Hono as `c.env` (Deno's connection
   * info, whose `remoteAddr` is the client's address unless `TRUST_PROXY` says otherwise).
   */
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  /** The in-memory snapshot of keys and tokens. */
  registry: Registry;
  /** Rotation state. */
  pool: KeyPool;
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Logger in use. */
  logger: Logger;
  /** The request log queue. */
  logs: LogWriter;
  /**
   * Shares state with the store: adapters call it on a timer (a few times a second) or per
   * request. Counters are written at most once a second unless `force` is set (shutdown, tests),
   * which also hands every leased block of limit capacity back.
   */
  sync(force?: boolean): Promise<void>;
  /**
   * Waits until every request answered so far is accounted (its record finished and queued: a
   * client reading a `content-length` body may finish a moment before the proxy sees the end),
   * then syncs with `force`. For tests and shutdown; an open stream keeps it waiting.
   */
  settle(): Promise<void>;
  /** Re-validates disabled keys and re-enables those Google accepts again. */
  revalidateDisabled(): Promise<ValidationResult[]>;
}
