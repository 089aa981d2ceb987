/**
 * The sign-in throttle: every check of a secret a client presents (the admin password, by
 * `Authorization: Bearer` on `/admin/api/*` or by the login form; `METRICS_TOKEN` on `/metrics`)
 * goes through it. Wrong secrets are counted per client address and in total, in the shared
 * store, so every process sees one count; past the allowance a scope is locked, with doubling
 * back-off ({@linkcode ADDRESS_RULE}, {@linkcode GLOBAL_RULE}). While locked, no secret is
 * compared at all: the right one is refused like any other, so a lock-out tells a guesser
 * nothing.
 *
 * A check is admitted before the secret is compared (one compare-and-set in the store), and
 * settled after: a burst of concurrent guesses gets no more comparisons than the guesses left.
 * Locks seen are remembered in the process, so a flood of refused attempts costs no store call.
 * When the store fails, the same rules run on an in-process copy until it answers again.
 * @module
 */
import type { Logger } from "../logs/mod.ts";
import {
  type AuthThrottleState,
  type AuthThrottleStorage,
  type AuthThrottleWrite,
  createMemoryAuthThrottle,
} from "../store/mod.ts";
import {
  ADDRESS_RULE,
  admission,
  admitted,
  type AuthRule,
  expiryOf,
  GLOBAL_RULE,
  liveState,
  lockedUntil,
  settled,
} from "./auth_rules.ts";
import { addressScope } from "./client_address.ts";

/** What a secret guards: each realm is counted apart, so guessing one never locks the other. */
export type AuthRealm = "admin" | "metrics";

/** The outcome of a check. */
export type AuthVerdict =
  | { result: "accepted" }
  | { result: "refused" }
  | { result: "throttled"; retryAt: number };

/** Options of {@linkcode createAuthThrottle}. */
export interface AuthThrottleOptions {
  /** Where the counts are shared (the app's store). */
  store: AuthThrottleStorage;
  /** Clock (epoch ms). */
  now: () => number;
  /** Told when the store fails and the in-process copy takes over. */
  logger?: Logger;
  /** Rule per client address (default {@linkcode ADDRESS_RULE}). */
  addressRule?: AuthRule;
  /** Rule for all clients together (default {@linkcode GLOBAL_RULE}). */
  globalRule?: AuthRule;
}

/** The throttle. */
export interface AuthThrottle {
  /**
   * Checks a presented secret under the throttle.
   * @param realm What the secret guards.
   * @param address The client's address (the one request logs record: the connection's, or the
   *   `X-Forwarded-For` entry `TRUST_PROXY` trusts; never one the client chose).
   * @param verify Compares the secret (in constant time); called only when the check is admitted.
   * @returns Accepted, refused (wrong secret), or throttled until `retryAt` (epoch ms).
   */
  check(realm: AuthRealm, address: string, verify: () => boolean): Promise<AuthVerdict>;
}

interface Scope {
  name: string;
  rule: AuthRule;
  /** A right secret clears this scope's failures (the client address, not the total). */
  forgive: boolean;
}

/**
 * What a planner decides from the live states: a refusal, or the states to write; either way
 * with the locks it saw or starts (remembered once the decision stands).
 */
type Plan =
  | { retryAt: number; locks: [string, number][] }
  | { next: (AuthThrottleState | null)[]; locks: [string, number][] };

type Planner = (states: AuthThrottleState[], t: number) => Plan;

/** Compare-and-set rounds before a check gives up on a contended store. */
const MAX_ROUNDS = 50;
/** Most locks remembered in the process. */
const MAX_REMEMBERED = 10_000;

/**
 * Creates the throttle.
 * @param options Store, clock, logger and rules.
 * @returns The throttle.
 * @example
 * ```ts
 * const throttle = createAuthThrottle({ store, now: Date.now });
 * const verdict = await throttle.check("admin", "203.0.113.7", () => timingSafeEqual(given, pw));
 * ```
 */
export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const { now } = options;
  const addressRule = options.addressRule ?? ADDRESS_RULE;
  const globalRule = options.globalRule ?? GLOBAL_RULE;
  const fallback = createMemoryAuthThrottle({ now });
  /** Scope name to the end of a lock seen in the store; locks only ever end by time. */
  const locks = new Map<string, number>();
  let queue: Promise<unknown> = Promise.resolve();
  let warnedAt = -Infinity;

  function remember(seen: [string, number][]): void {
    if (locks.size >= MAX_REMEMBERED) {
      const t = now();
      for (const [name, end] of locks) if (end <= t) locks.delete(name);
      if (locks.size >= MAX_REMEMBERED) locks.clear();
    }
    for (const [scope, until] of seen) locks.set(scope, Math.max(until, locks.get(scope) ?? 0));
  }

  /** One store transaction at a time in this process; the in-process copy when the store fails. */
  function run(scopes: Scope[], plan: Planner): Promise<Plan> {
    const next = queue.then(async () => {
      try {
        return await compareAndSet(options.store, { scopes, plan, now });
      } catch (error) {
        if (now() - warnedAt > 60_000) {
          warnedAt = now();
          options.logger?.log("warn", "sign-in throttle: the store failed, counting in process", {
            error,
          });
        }
        return await compareAndSet(fallback, { scopes, plan, now });
      }
    }).then((decided) => {
      remember(decided.locks);
      return decided;
    });
    queue = next.catch(() => {});
    return next;
  }

  return {
    async check(realm, address, verify) {
      const scopes: Scope[] = [
        { name: `${realm}:ip:${addressScope(address)}`, rule: addressRule, forgive: true },
        { name: `${realm}:*`, rule: globalRule, forgive: false },
      ];
      const known = Math.max(...scopes.map((s) => locks.get(s.name) ?? 0));
      if (known > now()) return { result: "throttled", retryAt: known };
      const admit = await run(scopes, admitPlan(scopes));
      if ("retryAt" in admit) return { result: "throttled", retryAt: admit.retryAt };
      const right = verify();
      await run(scopes, settlePlan(scopes, right));
      return { result: right ? "accepted" : "refused" };
    },
  };
}

/** Admits one more check in every scope, or refuses until the latest lock (or busy scope) ends. */
function admitPlan(scopes: Scope[]): Planner {
  return function admit(states, t) {
    const waits = states.map((s, i): [string, number] => [
      scopes[i]!.name,
      admission(s, scopes[i]!.rule, t),
    ]);
    const retryAt = Math.max(...waits.map(([, until]) => until));
    if (retryAt > 0) return { retryAt, locks: waits.filter(([, until]) => until > 0) };
    return { next: states.map((s) => admitted(s, t)), locks: [] };
  };
}

/** Settles an admitted check as right or wrong in every scope. */
function settlePlan(scopes: Scope[], right: boolean): Planner {
  return function settle(states, t) {
    const next = states.map((s, i) => settled(s, t, { right, forgive: scopes[i]!.forgive }));
    const locks = next.map((s, i): [string, number] => [
      scopes[i]!.name,
      s ? lockedUntil(s, scopes[i]!.rule) : 0,
    ]);
    return { next, locks: locks.filter(([, until]) => until > t) };
  };
}

/**
 * Reads the scopes, lets the planner decide on their live states, and writes its states if no
 * other writer got there first; otherwise reads again.
 * @throws {Error} When the store fails, or refuses {@linkcode MAX_ROUNDS} writes in a row.
 */
async function compareAndSet(
  storage: AuthThrottleStorage,
  { scopes, plan, now }: { scopes: Scope[]; plan: Planner; now: () => number },
): Promise<Plan> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const entries = await storage.readAuthThrottle(scopes.map((s) => s.name));
    const t = now();
    const decided = plan(entries.map((e, i) => liveState(e.state, scopes[i]!.rule, t)), t);
    if ("retryAt" in decided) return decided;
    const writes: AuthThrottleWrite[] = decided.next.map((state, i) => ({
      scope: scopes[i]!.name,
      version: entries[i]!.version,
      state,
      expiresAt: state ? expiryOf(state, scopes[i]!.rule) : t,
    }));
    if (await storage.writeAuthThrottle(writes)) return decided;
  }
  throw new Error("the sign-in throttle's store kept refusing its writes");
}
