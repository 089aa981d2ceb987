/**
 * An empty route manifest, swapped in for `routes/_manifest.gen.ts` when the Worker is bundled:
 * the admin console's pages and islands (Preact, uPlot) stay out of the Worker, which serves the
 * proxy, the admin JSON API, `/healthz` and `/metrics`. The console runs on a Deno deployment that
 * shares the Worker's store.
 * @module
 */
import type { Manifest } from "../../core/web/mod.ts";

/** No routes, no islands. */
export const manifest: Manifest = { routes: {}, islands: {} };
