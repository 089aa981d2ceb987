/**
 * Admin API for request logs and usage statistics: filtered, paginated logs; one log in full;
 * time series from the aggregates; and a live tail as server-sent events.
 * @module
 */
import { Hono } from "hono";
import * as z from "zod";
import { HttpError } from "../errors.ts";
import { buildStats, granularityFor } from "../logs/mod.ts";
import type { LogFilter } from "../store/mod.ts";
import type { AdminContext } from "./context.ts";
import { logFacets } from "./log_facets.ts";
import { exportLogs, presentLog } from "./logs_export.ts";

const RANGES: Record<string, number> = {
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
};

const logQuery = z.object({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().positive().optional(),
  status: z.string().regex(/^(\d{3}|[1-5]xx)$/i).optional(),
  errorClass: z.string().max(64).optional(),
  model: z.string().max(200).optional(),
  keyId: z.string().max(64).optional(),
  tokenId: z.string().max(64).optional(),
  stream: z.enum(["true", "false"]).optional(),
  q: z.string().max(64).optional(),
  search: z.string().max(200).optional(),
  reveal: z.enum(["1", "true", "client"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
  format: z.enum(["csv", "ndjson"]).default("csv"),
});

const statsQuery = z.object({
  range: z.enum(["1h", "24h", "7d", "30d"]).default("24h"),
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().positive().optional(),
  group: z.enum(["none", "model", "keyId", "tokenId"]).default("none"),
  keyId: z.string().max(64).optional(),
  tokenId: z.string().max(64).optional(),
});

/**
 * Routes for `/admin/api/logs` and `/admin/api/stats`.
 * @param ctx Shared state.
 */
export function logRoutes(ctx: AdminContext): Hono {
  const api = new Hono();
  api.get("/logs", async (c) => {
    const q = parseQuery(logQuery, c.req.query());
    const page = await ctx.store.listLogs(logFilter(q), q.limit, q.cursor ?? null);
    return c.json({ ...page, logs: page.logs.map((l) => presentLog(l, q.reveal !== undefined)) });
  });
  api.get("/logs/facets", async (c) => c.json(await logFacets(ctx)));
  api.get("/logs/export", (c) => exportResponse(ctx, c.req.query()));
  api.get("/logs/tail", (c) => tailResponse(ctx, c.req.raw));
  api.get("/logs/:id", async (c) => {
    const id = c.req.param("id");
    const record = await ctx.store.getLog(id);
    if (!record) throw new HttpError(404, `Log "${id}" not found`);
    const reveal = c.req.query("reveal");
    return c.json(presentLog(record, reveal === "1" || reveal === "true" || reveal === "client"));
  });
  api.get("/stats", async (c) => c.json(await stats(ctx, c.req.query())));
  return api;
}

/** `GET /logs/export`: the matching records as a CSV or NDJSON download, streamed. */
function exportResponse(ctx: AdminContext, query: Record<string, string>): Response {
  const q = parseQuery(logQuery, query);
  const body = exportLogs(ctx.store, logFilter(q), {
    format: q.format,
    reveal: q.reveal !== undefined,
  });
  const stamp = new Date(ctx.now()).toISOString().slice(0, 19).replace(/[-:]/g, "");
  return new Response(body, {
    headers: {
      "content-type": q.format === "csv"
        ? "text/csv; charset=utf-8"
        : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="gemini-proxy-logs-${stamp}.${q.format}"`,
    },
  });
}

/** `GET /logs/tail`: every record as it is queued, as server-sent events. */
function tailResponse(ctx: AdminContext, request: Request): Response {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": tail started\n\n"));
      unsubscribe = ctx.logs.subscribe((record) => {
        const shown = presentLog(record, false);
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(shown)}\n\n`));
      });
      // Keeps proxies between the browser and the console from closing an idle stream.
      heartbeat = setInterval(() => controller.enqueue(encoder.encode(": ping\n\n")), 15_000);
    },
    cancel() {
      unsubscribe();
      clearInterval(heartbeat);
    },
  });
  request.signal.addEventListener("abort", () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}

/** `GET /stats`: requests, errors, tokens and latency over a range, grouped. */
async function stats(ctx: AdminContext, query: Record<string, string>) {
  const q = parseQuery(statsQuery, query);
  const to = q.to ?? ctx.now() + 1;
  const from = q.from ?? to - RANGES[q.range]!;
  if (from >= to) throw new HttpError(400, `Invalid range: "from" must be before "to"`);
  const granularity = granularityFor(to - from);
  const started = ctx.now();
  const where = {
    ...(q.keyId ? { keyId: q.keyId } : {}),
    ...(q.tokenId ? { tokenId: q.tokenId } : {}),
  };
  const one = q.keyId !== undefined || q.tokenId !== undefined;
  const rows = await ctx.store.readAggregates(granularity, {
    from: alignDown(from, granularity),
    to,
    rollupOnly: !one && (q.group === "none" || q.group === "model"),
  });
  const built = buildStats(rows, { from, to, granularity, groupBy: q.group, where });
  return { ...built, from, to, queryMs: ctx.now() - started };
}

/** The store filter of a logs query (list and export alike). */
function logFilter(q: z.infer<typeof logQuery>): LogFilter {
  const filter: LogFilter = {};
  if (q.from !== undefined) filter.from = q.from;
  if (q.to !== undefined) filter.to = q.to;
  if (q.status) filter.status = q.status.toLowerCase();
  if (q.errorClass) filter.errorClass = q.errorClass;
  if (q.model) filter.model = q.model;
  if (q.search) filter.search = q.search;
  if (q.keyId) filter.keyId = q.keyId;
  if (q.tokenId) filter.tokenId = q.tokenId;
  if (q.stream) filter.stream = q.stream === "true";
  if (q.q) filter.idPrefix = q.q;
  return filter;
}

function alignDown(t: number, granularity: "m" | "h" | "d"): number {
  const size = granularity === "m" ? 60_000 : granularity === "h" ? 3_600_000 : 86_400_000;
  return Math.floor(t / size) * size;
}

function parseQuery<T extends z.ZodType>(schema: T, query: Record<string, string>): z.infer<T> {
  const result = schema.safeParse(query);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(400, `Invalid "${issue?.path.join(".")}": ${issue?.message}`);
  }
  return result.data;
}
