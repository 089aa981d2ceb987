/**
 * Resource affinity at the proxy: a request naming a resource (an upload session, a file, a
 * cached content, a batch, a tuned model, an operation) must use the key whose project owns it.
 * @module
 */
import { HttpError } from "../errors.ts";
import { resourcesInBody } from "../rotation/mod.ts";
import type { PinnedKey, ProxyApp, ProxyExchange, ReadExchange } from "./exchange.ts";

/**
 * The key of the upload session a chunk belongs to. The upload id is upstream's credential for
 * the session; the proxy only serves sessions it started for an authenticated client.
 * @param exchange The chunk's request.
 * @param uploadId The session's id.
 * @throws {HttpError} 404 when the proxy did not start the session, 400 when its key is gone.
 */
export async function pinUploadSession(
  exchange: ProxyExchange,
  uploadId: string,
): Promise<PinnedKey | null> {
  return await pinnedKey(exchange.app, {
    resource: `upload:${uploadId}`,
    label: `Upload session "${uploadId}"`,
    required: true,
  });
}

/**
 * Stage 6, pin: the key owning the first resource the path or the body names, unless the request
 * is already pinned.
 * @param exchange The request, its body read.
 * @returns Undefined when nothing is named (nothing to await), else a promise of the lookups.
 * @throws {HttpError} 400 when the owning key is disabled or gone (as the promise's rejection).
 */
export function pinResources(exchange: ReadExchange): Promise<void> | undefined {
  if (exchange.pinned) return;
  const names = [...exchange.route.resources];
  if (exchange.body.text) names.push(...resourcesInBody(exchange.body.text));
  // Most requests name no file or cache: nothing to look up, nothing to await.
  if (names.length > 0) return pinFirstOwned(exchange, names);
}

/** Pins the request to the key owning the first of `names` that one owns. */
async function pinFirstOwned(exchange: ReadExchange, names: string[]): Promise<void> {
  for (const name of names) {
    const found = await pinnedKey(exchange.app, {
      resource: name,
      label: `Resource "${name}"`,
      required: false,
    });
    if (found) {
      exchange.pinned = found;
      return;
    }
  }
}

/**
 * A resource pinned to a key that can no longer serve it.
 * @param label The resource as the message names it.
 * @param disabled Whether the key is disabled (else it is no longer configured).
 */
export function resourceKeyUnavailable(label: string, disabled: boolean): HttpError {
  return new HttpError(
    400,
    `${label} belongs to a Gemini API key that is ${
      disabled ? "disabled" : "no longer configured"
    }`,
    { status: "FAILED_PRECONDITION", reason: "RESOURCE_KEY_UNAVAILABLE" },
  );
}

async function pinnedKey(
  app: ProxyApp,
  pin: { resource: string; label: string; required: boolean },
): Promise<PinnedKey | null> {
  const owner = await app.affinity.lookup(pin.resource);
  if (owner === null) {
    if (pin.required) throw new HttpError(404, `${pin.label} is unknown or expired`);
    return null;
  }
  const key = app.registry.keyById(owner);
  if (!key || !key.record.enabled) throw resourceKeyUnavailable(pin.label, key !== undefined);
  return { key, resource: pin.resource };
}
