/**
 * A proxy token record for unit tests.
 * @module
 */
import type { TokenRecord } from "../../core/store/mod.ts";

/**
 * A token `t1` named `app`, enabled, made by an admin, with `extra` over it.
 * @param extra Fields to set or override (limits, models, expiry...).
 */
export function testToken(extra: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: "t1",
    name: "app",
    hash: "h",
    masked: "gp-...x",
    enabled: true,
    source: "admin",
    createdAt: 0,
    ...extra,
  };
}
