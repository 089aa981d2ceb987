/**
 * The one rule every store applies to a lease request, so backends cannot drift: settle first
 * (never below zero), then grant what the cap leaves, up to what is wanted. The Postgres function
 * `gp_take_leases` (supabase/migrations/) computes the same in SQL.
 * @module
 */
import type { LeaseGrant, LeaseRequest } from "../store/store.ts";

/**
 * Applies one lease request to a counter's total.
 * @param used The counter's total before the request.
 * @param request What to settle and how much is wanted under which cap.
 * @returns The units granted and the total after the request.
 * @example
 * ```ts
 * applyLease(8, { settle: 0, want: 5, cap: 10 }); // { granted: 2, used: 10 }
 * applyLease(12, { settle: -3, want: 5, cap: 10 }); // { granted: 1, used: 10 }
 * ```
 */
export function applyLease(
  used: number,
  request: Pick<LeaseRequest, "settle" | "want" | "cap">,
): LeaseGrant {
  const settled = Math.max(0, used + whole(request.settle));
  const room = Math.max(0, whole(request.cap) - settled);
  const granted = Math.min(Math.max(0, whole(request.want)), room);
  return { granted, used: settled + granted };
}

/** A finite integer (toward zero), or 0. */
function whole(value: number): number {
  return Number.isFinite(value) ? Math.trunc(value) : 0;
}
