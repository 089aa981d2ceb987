/**
 * What admin API route modules receive: the app's state and I/O, never a platform global.
 * @module
 */
import type { Config, Settings } from "../config/mod.ts";
import type { KeyPool, PoolSync, Registry } from "../rotation/mod.ts";
import type { Logger, LogWriter } from "../logs/mod.ts";
import type { ClientOf } from "../proxy/mod.ts";
import type { Cipher } from "../secrets/mod.ts";
import type { Store } from "../store/mod.ts";
import type { AuthThrottle } from "./auth_throttle.ts";
import type { Sessions } from "./session.ts";
import type { UnsharedStore } from "./unshared_store.ts";

/** Shared state handed to every admin route module. */
export interface AdminContext {
  /** Validated configuration. */
  config: Config;
  /** Store backend. */
  store: Store;
  /** In-memory keys and tokens (call `reload()` after a change for read-your-writes). */
  registry: Registry;
  /** Rotation state. */
  pool: KeyPool;
  /** Background writer of rotation state. */
  poolSync: PoolSync;
  /** Encrypts keys before they are stored. */
  cipher: Cipher;
  /** Clock (epoch ms). */
  now: () => number;
  /** fetch for upstream calls (key validation). */
  fetch: typeof fetch;
  /** Logger. */
  logger: Logger;
  /** Request log queue (live tail). */
  logs: LogWriter;
  /** Counts wrong admin passwords (Bearer and login form), shared through the store. */
  throttle: AuthThrottle;
  /** The client address of a request, as request logs record it (see `clientResolver`). */
  clientOf: ClientOf;
  /** Console sessions, accepted by the API besides the Bearer password. */
  sessions?: Sessions;
  /** Runtime settings (served under `/settings`). */
  settings?: Settings;
  /** Set when each instance of the host has a store of its own: admin writes are refused. */
  unsharedStore?: UnsharedStore;
}
