/**
 * The Cloudflare Worker: `deno task build:worker` bundles this module into `dist/worker.mjs`, the
 * one ES module `wrangler deploy` and `denoflare push` upload.
 *
 * Workers treat every named export of the main module as an entrypoint, so this module exports
 * only the handler object; the logic is in `worker_app.ts`.
 * @module
 */
import { handleRequest } from "./worker_app.ts";
import type { ExecutionContext, WorkerBindings } from "./workers_types.ts";

/**
 * The Worker's handlers, in Workers' module syntax.
 * @example
 * ```toml
 * # wrangler.toml
 * main = "dist/worker.mjs"
 * ```
 */
export default {
  /**
   * Serves one request.
   * @param request The client request; `request.cf.colo` names the serving colo.
   * @param env Vars and secrets (`GEMINI_API_KEYS`, `PROXY_TOKENS`, `SECRET_KEY`...).
   * @param ctx Background work (log writes, counter syncs) goes to `ctx.waitUntil`.
   */
  fetch(request: Request, env: WorkerBindings, ctx: ExecutionContext): Promise<Response> {
    return handleRequest(request, env, ctx);
  },
};
