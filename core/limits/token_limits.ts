/**
 * Which limits a proxy token actually sets.
 * @module
 */
import type { TokenLimits } from "../store/mod.ts";

/**
 * The limits that are actually set, or null when the token is unlimited.
 * @param limits A token's limits.
 */
export function activeLimits(limits: TokenLimits | undefined): TokenLimits | null {
  if (!limits) return null;
  const out: TokenLimits = {};
  if (limits.rpm !== undefined) out.rpm = limits.rpm;
  if (limits.rpd !== undefined) out.rpd = limits.rpd;
  if (limits.tpd !== undefined) out.tpd = limits.tpd;
  if (limits.budgetMicros !== undefined) out.budgetMicros = limits.budgetMicros;
  return Object.keys(out).length > 0 ? out : null;
}
