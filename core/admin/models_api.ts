/**
 * The models the playground offers: Google's own list (`models.list`, asked server-side with an
 * enabled key, which never leaves the server), kept to the models that generate content and cached
 * for a while; without an answer, the models that succeeded through the proxy this week.
 * @module
 */
import { Hono } from "hono";
import { buildStats } from "../logs/mod.ts";
import type { AdminContext } from "./context.ts";

const CACHE_MS = 10 * 60_000;
const MAX_PAGES = 5;

/** What `GET /admin/api/models` answers. */
export interface ModelsAnswer {
  /** Model ids (no `models/` prefix) that support `generateContent`. */
  models: string[];
  /** `upstream` (Google's list) or `traffic` (models that answered this week). */
  source: "upstream" | "traffic";
}

/**
 * Routes for `/admin/api/models`.
 * @param ctx Shared state.
 */
export function modelRoutes(ctx: AdminContext): Hono {
  const api = new Hono();
  let cached: { at: number; models: string[] } | null = null;
  api.get("/", async (c) => {
    if (!cached || ctx.now() - cached.at > CACHE_MS) {
      const listed = await upstreamModels(ctx);
      if (listed) cached = { at: ctx.now(), models: listed };
    }
    if (cached) return c.json({ models: cached.models, source: "upstream" } as ModelsAnswer);
    return c.json({ models: await succeededModels(ctx), source: "traffic" } as ModelsAnswer);
  });
  return api;
}

/** Google's list of models that generate content, or null when no key could ask. */
async function upstreamModels(ctx: AdminContext): Promise<string[] | null> {
  const key = ctx.registry.enabledKeys[0];
  if (!key) return null;
  const headers: Record<string, string> = { "x-goog-api-key": key.value };
  if (ctx.config.cfAigToken) headers["cf-aig-authorization"] = `Bearer ${ctx.config.cfAigToken}`;
  const out: string[] = [];
  let token = "";
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = `${ctx.config.upstreamUrl}/v1beta/models?pageSize=1000` +
        (token ? `&pageToken=${encodeURIComponent(token)}` : "");
      const response = await ctx.fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
      if (!response.ok) {
        await response.body?.cancel();
        return null;
      }
      const body = await response.json() as {
        models?: { name?: string; supportedGenerationMethods?: string[] }[];
        nextPageToken?: string;
      };
      for (const m of body.models ?? []) {
        if (m.name && m.supportedGenerationMethods?.includes("generateContent")) {
          out.push(m.name.replace(/^models\//, ""));
        }
      }
      token = body.nextPageToken ?? "";
      if (!token) break;
    }
  } catch {
    return null;
  }
  return out;
}

/** Models with at least one request that did not fail this week, most used first. */
async function succeededModels(ctx: AdminContext): Promise<string[]> {
  const to = ctx.now() + 1;
  const from = Math.floor((to - 7 * 86_400_000) / 3_600_000) * 3_600_000;
  const rows = await ctx.store.readAggregates("h", { from, to, rollupOnly: true });
  const stats = buildStats(rows, { from, to, granularity: "h", groupBy: "model" });
  return stats.series
    .filter((s) => s.group !== "-" && s.overall.requests > s.overall.errors)
    .sort((a, b) => b.overall.requests - a.overall.requests)
    .map((s) => s.group);
}
