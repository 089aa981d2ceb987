/**
 * What hosts share beyond the app itself.
 *
 * - {@linkcode createBackground}: background work on platforms without timers between requests
 *   (Cloudflare Workers, Vercel Edge Functions): each request's `waitUntil` promise settles once
 *   its log record is queued and a sync after it has finished.
 * @module
 */
export { type Background, type BackgroundOptions, createBackground } from "./background.ts";
