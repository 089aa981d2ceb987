/**
 * The rules of the sign-in throttle, as pure functions of a scope's state and the time: how many
 * guesses a scope gets, how long it is locked after them (doubling with every further wrong
 * guess), how many checks may be in flight, and when it is forgotten.
 * @module
 */
import type { AuthThrottleState } from "../store/mod.ts";

/** The limits of one kind of scope. */
export interface AuthRule {
  /** Wrong secrets allowed before the first lock. */
  free: number;
  /** The first lock, ms; each further wrong secret doubles it. */
  lockMs: number;
  /** The longest lock, ms. */
  maxLockMs: number;
  /** Failures are forgotten this long after the last one, ms. */
  forgetMs: number;
}

/** One client address (an IPv6 /64): 5 wrong passwords, then 1, 2, 4... minutes, up to 15. */
export const ADDRESS_RULE: AuthRule = {
  free: 5,
  lockMs: 60_000,
  maxLockMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
};

/** Every client together: 50 wrong passwords, then the same back-off for everyone. */
export const GLOBAL_RULE: AuthRule = {
  free: 50,
  lockMs: 60_000,
  maxLockMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
};

/** A check in flight longer than this is taken as abandoned (its process stopped), ms. */
export const PENDING_MS = 10_000;
/** Retry delay when a scope's guesses are all in flight, ms. */
export const BUSY_RETRY_MS = 1000;

const EMPTY: AuthThrottleState = { failures: 0, failedAt: 0, pending: 0, pendingAt: 0 };

/**
 * A stored state as it stands at `t`: failures past `forgetMs` and checks in flight past
 * {@linkcode PENDING_MS} no longer count.
 * @param state The stored state, or null.
 * @param rule The scope's rule.
 * @param t Now (epoch ms).
 */
export function liveState(
  state: AuthThrottleState | null,
  rule: AuthRule,
  t: number,
): AuthThrottleState {
  const s = state ?? EMPTY;
  const failing = s.failures > 0 && t - s.failedAt < rule.forgetMs;
  const busy = s.pending > 0 && t - s.pendingAt < PENDING_MS;
  return {
    failures: failing ? s.failures : 0,
    failedAt: failing ? s.failedAt : 0,
    pending: busy ? s.pending : 0,
    pendingAt: busy ? s.pendingAt : 0,
  };
}

/**
 * When a scope's lock ends (epoch ms); 0 when it has fewer failures than `free`. The lock starts
 * at the last wrong secret and lasts `lockMs`, doubled for each failure past `free`.
 * @param state A live state.
 * @param rule The scope's rule.
 */
export function lockedUntil(state: AuthThrottleState, rule: AuthRule): number {
  if (state.failures < rule.free) return 0;
  const doublings = Math.min(30, state.failures - rule.free);
  return state.failedAt + Math.min(rule.maxLockMs, rule.lockMs * 2 ** doublings);
}

/**
 * Whether one more check may go ahead: 0 when it may, else when to try again (epoch ms). A scope
 * allows as many checks in flight as it has guesses left (at least one once a lock has ended),
 * so a burst of concurrent guesses cannot outrun the count.
 * @param state A live state.
 * @param rule The scope's rule.
 * @param t Now (epoch ms).
 */
export function admission(state: AuthThrottleState, rule: AuthRule, t: number): number {
  const until = lockedUntil(state, rule);
  if (until > t) return until;
  const guesses = Math.max(1, rule.free - state.failures);
  return state.pending >= guesses ? t + BUSY_RETRY_MS : 0;
}

/**
 * The state with one more check in flight.
 * @param state A live state.
 * @param t Now (epoch ms).
 */
export function admitted(state: AuthThrottleState, t: number): AuthThrottleState {
  return { ...state, pending: state.pending + 1, pendingAt: t };
}

/**
 * The state once a check in flight is settled: a wrong secret counts as a failure; a right one
 * clears the failures when `forgive` is set (a client address that proved it knows the secret).
 * @param state A live state.
 * @param t Now (epoch ms).
 * @param options Whether the secret was right, and whether that clears failures.
 * @returns The new state, or null when nothing is left to keep.
 */
export function settled(
  state: AuthThrottleState,
  t: number,
  options: { right: boolean; forgive: boolean },
): AuthThrottleState | null {
  const pending = Math.max(0, state.pending - 1);
  const next: AuthThrottleState = options.right
    ? options.forgive
      ? { failures: 0, failedAt: 0, pending, pendingAt: state.pendingAt }
      : { ...state, pending }
    : { ...state, failures: state.failures + 1, failedAt: t, pending };
  return next.failures === 0 && next.pending === 0 ? null : next;
}

/**
 * When a stored state may be forgotten (epoch ms): nothing in it counts after that.
 * @param state The state.
 * @param rule The scope's rule.
 */
export function expiryOf(state: AuthThrottleState, rule: AuthRule): number {
  return Math.max(state.failedAt + rule.forgetMs, state.pendingAt + PENDING_MS);
}
