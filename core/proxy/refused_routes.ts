/**
 * Gemini API calls the proxy never forwards, whoever asks: calls that would hand the client a
 * credential of the key's project. A proxy token must stay the only way in, so that its limits,
 * allow-list and revocation hold.
 * @module
 */
import { HttpError } from "../errors.ts";
import type { ProxyRoute } from "./route.ts";

/** Collections whose calls mint credentials (`POST /v1alpha/auth_tokens`: ephemeral tokens). */
const MINTING = new Set(["auth_tokens"]);

/**
 * Throws for a route that would give the client a credential usable at Google directly.
 * @param route The classified request path.
 * @throws {HttpError} 403 PERMISSION_DENIED, reason `CREDENTIAL_MINTING_REFUSED`.
 */
export function refuseCredentialMinting(route: ProxyRoute): void {
  if (route.kind !== "native") return;
  const collection = route.path.split("/")[2]?.split(":")[0] ?? "";
  if (!MINTING.has(collection)) return;
  throw new HttpError(
    403,
    "Ephemeral tokens cannot be created through the proxy: they would reach Google without the " +
      "proxy token's limits; connect the Live API through the proxy with the proxy token instead",
    { status: "PERMISSION_DENIED", reason: "CREDENTIAL_MINTING_REFUSED" },
  );
}
