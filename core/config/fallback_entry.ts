/**
 * One entry of `FALLBACK_PROXY_URLS`: a deployment's base URL, optionally pinned to a region.
 *
 * A Supabase Edge Function runs in the region nearest its caller unless the request names one,
 * with the `x-region` header or the `forceFunctionRegion` query parameter. An entry names its
 * region the way Supabase documents it, `https://<ref>.supabase.co/functions/v1/proxy?forceFunctionRegion=eu-central-1`;
 * the relay then sends `x-region: eu-central-1` and leaves the parameter out of the URL, since the
 * fallback would otherwise pass it on to Google, which refuses unknown query parameters.
 * @module
 */

/** The query parameter Supabase reads to pin a function's region. */
export const REGION_PARAM = "forceFunctionRegion";
/** The header Supabase reads to pin a function's region. */
export const REGION_HEADER = "x-region";

/** A parsed fallback entry. */
export interface FallbackEntry {
  /** Base URL without a query or trailing slash, e.g. `https://ref.supabase.co/functions/v1/proxy`. */
  base: string;
  /** Region to run the fallback in (sent as `x-region`), or null to let the platform choose. */
  region: string | null;
}

const BASE = /^https?:\/\/[^/?#\s@]+(\/[^?#\s]*)?$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * Parses an entry.
 * @param entry One URL from `FALLBACK_PROXY_URLS`.
 * @returns The entry, or a sentence saying what is wrong with it.
 * @example
 * ```ts
 * parseFallbackEntry("https://ref.supabase.co/functions/v1/proxy?forceFunctionRegion=eu-west-3");
 * // { base: "https://ref.supabase.co/functions/v1/proxy", region: "eu-west-3" }
 * ```
 */
export function parseFallbackEntry(entry: string): FallbackEntry | { error: string } {
  const mark = entry.indexOf("?");
  const base = (mark < 0 ? entry : entry.slice(0, mark)).replace(/\/+$/, "");
  if (!BASE.test(base)) return { error: "is not an http(s) base URL" };
  if (mark < 0) return { base, region: null };
  const params = new URLSearchParams(entry.slice(mark + 1));
  const names = [...new Set(params.keys())];
  if (names.length !== 1 || names[0] !== REGION_PARAM || params.getAll(REGION_PARAM).length > 1) {
    return { error: `may carry only one query parameter, ${REGION_PARAM}` };
  }
  const region = params.get(REGION_PARAM)!.toLowerCase();
  if (!REGION.test(region)) return { error: `has a ${REGION_PARAM} that is not a region name` };
  return { base, region };
}
