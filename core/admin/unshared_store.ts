/**
 * Hosts that run many instances (Worker isolates, Edge Function workers, Deno Deploy isolates)
 * with `STORE=memory` give each instance a store of its own: a token created through one would
 * be unknown to the others, and gone when its instance stops. The adapter says so
 * ({@linkcode UnsharedStore}); admin writes are then refused with 409 and the console shows why,
 * while reads (and the keys and tokens from the environment) keep working.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";

/** Set by an adapter whose store lives in one instance while the host runs many. */
export interface UnsharedStore {
  /** What to configure for a shared store, e.g. `set STORE=supabase with SUPABASE_URL ...`. */
  remedy: string;
}

/** Methods that change state. */
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Why admin changes are refused, and what to configure instead.
 * @param unshared The adapter's description.
 */
export function unsharedStoreMessage(unshared: UnsharedStore): string {
  return "Admin changes are refused: with STORE=memory every instance of this host keeps its " +
    `own store, so a change would reach one instance only; ${unshared.remedy}`;
}

/**
 * The refusal of an admin write: 409 `FAILED_PRECONDITION` with reason `STORE_NOT_SHARED`.
 * @param unshared The adapter's description.
 */
export function unsharedStoreError(unshared: UnsharedStore): HttpError {
  return new HttpError(409, unsharedStoreMessage(unshared), {
    status: "FAILED_PRECONDITION",
    reason: "STORE_NOT_SHARED",
  });
}

/**
 * Admin API middleware refusing POST, PUT, PATCH and DELETE when the store is not shared.
 * @param unshared The adapter's description, or undefined when the store is shared.
 * @returns Hono middleware.
 * @throws {HttpError} 409 on a write to an unshared store.
 */
export function refuseUnsharedWrites(unshared: UnsharedStore | undefined): MiddlewareHandler {
  return async function unsharedStoreGuard(c, next) {
    if (unshared && WRITES.has(c.req.method)) throw unsharedStoreError(unshared);
    await next();
  };
}
