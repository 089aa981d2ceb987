/**
 * The proxy: every Gemini API path, from the client's request to the relayed answer. See
 * `proxy_handler.ts` for the stages a request goes through.
 *
 * - {@linkcode createProxyHandler}: the handler for every Gemini API path.
 * - {@linkcode createRegionalRelay}: regional failover between deployments.
 * - {@linkcode isApiUrl}, {@linkcode preflight}, {@linkcode allowOrigin}: CORS for browser apps.
 * - {@linkcode maskAddress}: a client address as logs show it.
 * @module
 */
export { createProxyHandler } from "./proxy_handler.ts";
export type { LiveBridge, ProxyDeps } from "./exchange.ts";
export {
  createRegionalRelay,
  HOP_HEADER,
  type RegionalRelay,
  type RegionalRelayOptions,
  RELAY_HEADER,
} from "./regional_relay.ts";
export { allowOrigin, isApiUrl, isPreflight, preflight } from "./cors.ts";
export {
  clientAddressOf,
  type ClientOf,
  clientResolver,
  maskAddress,
  type PeerOf,
  remoteAddrPeer,
} from "./client_address.ts";
export { type ProxyRoute } from "./route.ts";
