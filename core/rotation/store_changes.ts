/**
 * The one component that knows what changed in the store, and tells the caches that hold it.
 *
 * The store keeps two versions: one bumped by every change of keys, tokens or settings (`data`)
 * and one by every cooldown (`cooldowns`). A probe reads both, and only a version that moved runs
 * the reloads registered for it ({@linkcode StoreChanges.on}): the key and token snapshot and the
 * settings on `data`, other processes' cooldowns on `cooldowns`.
 *
 * A probe runs only when something needs it, never on a bare timer:
 * - a request finds the view older than `maxAgeMs` ({@linkcode StoreChanges.ensureFresh}): it
 *   waits for one probe shared with concurrent requests (see `freshness.ts`), so a change
 *   committed at C is seen by every request that starts at C + `maxAgeMs` or later;
 * - the host's timer ({@linkcode StoreChanges.tick}) probes only when a request came since the
 *   last probe began (or the last probe failed), so busy instances follow changes as before and
 *   idle ones read nothing;
 * - a change signal ({@linkcode StoreChanges.check}), such as a Deno KV `watch()` on the
 *   versions, where the host supports long-lived watches.
 *
 * With no request and no change, the store gets no read at all.
 * @module
 */
import { createFreshness, type Freshness } from "./freshness.ts";
import type { Store } from "../store/mod.ts";

/** What a version covers: keys, tokens and settings, or cooldowns. */
export type ChangeTopic = "data" | "cooldowns";

/** Options of {@linkcode createStoreChanges}. */
export interface StoreChangesOptions {
  /** Clock (epoch ms). */
  now: () => number;
  /** Oldest view a request is served from before it waits for a probe, ms (default 1000). */
  maxAgeMs?: number;
  /** A probe slower than this counts as failed, ms (default 5000). */
  timeoutMs?: number;
  /** Reports failed probes and reloads. */
  onError?: (error: unknown) => void;
}

/** The store's change versions and the caches that follow them. */
export interface StoreChanges {
  /** Epoch ms before which every committed change is in the caches. */
  readonly checkedAt: number;
  /** Whether the last probe failed. */
  readonly degraded: boolean;
  /** Probes started since creation (diagnostics and tests). */
  readonly probes: number;
  /**
   * Registers a reload to run when a topic's version moves. A probe that finds a version moved
   * waits for every reload of that topic; one that fails leaves the version to be seen again.
   */
  on(topic: ChangeTopic, reload: () => Promise<void>): void;
  /**
   * Reads both versions now as the ones the caches hold: called once before the caches' first
   * load, so that the first probe reloads only what changed after it.
   */
  prime(): Promise<void>;
  /**
   * Makes sure every change committed `maxAgeMs` ago or earlier is in the caches. Called before
   * a request is authenticated. Never rejects.
   * @param maxAgeMs Oldest acceptable view, ms (default: the option).
   * @returns Undefined when they are (nothing to await), else one probe shared by every caller.
   */
  ensureFresh(maxAgeMs?: number): Promise<void> | undefined;
  /** Probes now, or joins the probe in flight (a change signal). Never rejects. */
  check(): Promise<void>;
  /**
   * Probes when a request came since the last probe began, or the last probe failed; else reads
   * nothing. Never rejects.
   */
  tick(): Promise<void>;
  /**
   * Records that the caches hold every change committed before `at`.
   * @param at Epoch ms.
   */
  markFresh(at: number): void;
}

/**
 * Creates the change tracker of one application.
 * @param store The store whose versions are read.
 * @param options Clock, bound, timeout and error reporting.
 * @returns The tracker; its caches register with {@linkcode StoreChanges.on}.
 * @example
 * ```ts
 * const changes = createStoreChanges(store, { now: Date.now });
 * changes.on("data", () => registry.reload());
 * await changes.ensureFresh(); // before authenticating a request
 * ```
 */
export function createStoreChanges(
  store: Pick<Store, "version" | "cooldownVersion">,
  options: StoreChangesOptions,
): StoreChanges {
  return new ChangeTracker(store, options);
}

/** The tracker behind {@linkcode createStoreChanges}. */
class ChangeTracker implements StoreChanges {
  probes = 0;
  #store: Pick<Store, "version" | "cooldownVersion">;
  #freshness: Freshness;
  #reloads: Record<ChangeTopic, Array<() => Promise<void>>> = { data: [], cooldowns: [] };
  #seen: Record<ChangeTopic, string | null> = { data: null, cooldowns: null };
  /** Whether a request asked for a fresh view since the last probe began. */
  #asked = false;

  constructor(store: Pick<Store, "version" | "cooldownVersion">, options: StoreChangesOptions) {
    this.#store = store;
    this.#freshness = createFreshness({
      probe: () => this.#probe(),
      now: options.now,
      ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  get checkedAt(): number {
    return this.#freshness.checkedAt;
  }

  get degraded(): boolean {
    return this.#freshness.degraded;
  }

  on(topic: ChangeTopic, reload: () => Promise<void>): void {
    this.#reloads[topic].push(reload);
  }

  async prime(): Promise<void> {
    const [data, cooldowns] = await this.#versions();
    this.#seen = { data, cooldowns };
  }

  ensureFresh(maxAgeMs?: number): Promise<void> | undefined {
    const fresh = this.#freshness.ensureFresh(maxAgeMs);
    // Set after a probe this request may have started: the next tick looks again, so a serving
    // instance follows changes at the timer's pace and an idle one stops after one more probe.
    this.#asked = true;
    return fresh;
  }

  check(): Promise<void> {
    return this.#freshness.check();
  }

  tick(): Promise<void> {
    // A failed probe is retried on the timer, so health recovers without waiting for a request.
    if (!this.#asked && !this.degraded) return Promise.resolve();
    return this.#freshness.check();
  }

  markFresh(at: number): void {
    this.#freshness.markFresh(at);
  }

  async #probe(): Promise<void> {
    this.#asked = false;
    const [data, cooldowns] = await this.#versions();
    await Promise.all([this.#follow("data", data), this.#follow("cooldowns", cooldowns)]);
  }

  #versions(): Promise<[string, string]> {
    this.probes++;
    return Promise.all([this.#store.version(), this.#store.cooldownVersion()]);
  }

  /** Runs a topic's reloads when its version moved; the version counts as seen once they ran. */
  async #follow(topic: ChangeTopic, version: string): Promise<void> {
    if (version === this.#seen[topic]) return;
    await Promise.all(this.#reloads[topic].map((reload) => reload()));
    this.#seen[topic] = version;
  }
}
