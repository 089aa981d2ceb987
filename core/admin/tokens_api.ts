/**
 * Admin API for proxy tokens: create (the secret is shown once), list (masked, with usage),
 * update name, limits, allow-list, expiry and state, rotate the secret, delete, read usage.
 *
 * Every change bumps the store's version, so every process's in-memory token table follows
 * within one sync interval; this process reloads at once.
 * @module
 */
import { type Context, Hono } from "hono";
import type { BlankEnv } from "hono/types";
import * as z from "zod";
import { HttpError } from "../errors.ts";
import { nextPacificMonthStart } from "../utils/mod.ts";
import { type TokenLimits, type TokenRecord, type TokenUsage, windowNames } from "../store/mod.ts";
import { PATTERN_SHAPE } from "../limits/mod.ts";
import { issueTokenSecret, newTokenId } from "../secrets/mod.ts";
import type { AdminContext } from "./context.ts";
import { parseJson } from "./validate.ts";

const LIMIT_NAMES = ["rpm", "rpd", "tpd", "budgetMicros"] as const;

const limitValue = z.number({
  error: (issue) => `${JSON.stringify(issue.input)} is not a number`,
}).int({ error: (issue) => `${JSON.stringify(issue.input)} is not a whole number` })
  .positive({ error: (issue) => `${JSON.stringify(issue.input)} is not a positive number` })
  .max(1e15);
const pattern = z.string().trim().min(1).max(200).regex(PATTERN_SHAPE, {
  error: (issue) =>
    `"${issue.input}" is not a model pattern: use model-name characters and the wildcards * and ?`,
});
const models = z.array(pattern).max(100);
const expiry = z.union([
  z.number().int().positive(),
  z.iso.datetime({
    offset: true,
    error: (issue) => `"${issue.input}" is neither epoch milliseconds nor an ISO 8601 time`,
  }),
]);
const name = z.string().trim().min(1).max(100);

const createSchema = z.object({
  name,
  enabled: z.boolean().optional(),
  expiresAt: expiry.optional(),
  models: models.optional(),
  limits: z.object({
    rpm: limitValue.optional(),
    rpd: limitValue.optional(),
    tpd: limitValue.optional(),
    budgetMicros: limitValue.optional(),
  }).strict().optional(),
}).strict();

const patchSchema = z.object({
  name: name.optional(),
  enabled: z.boolean().optional(),
  expiresAt: expiry.nullable().optional(),
  models: models.nullable().optional(),
  limits: z.object({
    rpm: limitValue.nullable().optional(),
    rpd: limitValue.nullable().optional(),
    tpd: limitValue.nullable().optional(),
    budgetMicros: limitValue.nullable().optional(),
  }).strict().nullable().optional(),
}).strict();

/**
 * Routes for `/admin/api/tokens`. Responses never carry a secret (except once, on creation and
 * rotation) nor its hash.
 * @param ctx Shared state.
 * @returns A Hono app to mount at `/admin/api/tokens`.
 */
export function tokenRoutes(ctx: AdminContext): Hono {
  const api = new Hono();
  api.get("/", async (c) => {
    const at = ctx.now();
    const records = await ctx.store.listTokens();
    return c.json({ tokens: await Promise.all(records.map((r) => withUsage(ctx, r, at))) });
  });
  api.post("/", (c) => createToken(ctx, c));
  api.get("/:id", async (c) => {
    return c.json(await withUsage(ctx, await find(ctx, c.req.param("id")), ctx.now()));
  });
  api.get("/:id/usage", async (c) => {
    const record = await find(ctx, c.req.param("id"));
    const at = ctx.now();
    return c.json({
      id: record.id,
      limits: record.limits ?? {},
      ...usageView(await ctx.store.readTokenUsage(record.id, at), at),
    });
  });
  api.patch("/:id", (c) => patchToken(ctx, c));
  api.post("/:id/rotate", async (c) => {
    const current = await find(ctx, c.req.param("id"));
    const issued = await issueTokenSecret();
    const next = { ...current, hash: issued.hash, masked: issued.masked };
    await save(ctx, next);
    return c.json({ token: tokenView(next, ctx.now()), secret: issued.secret });
  });
  api.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!await ctx.store.deleteToken(id)) throw new HttpError(404, `Token "${id}" not found`);
    await ctx.registry.reload();
    return c.json({ deleted: id });
  });
  return api;
}

/** `POST /`: a new token; its secret is shown this once. */
async function createToken(ctx: AdminContext, c: Context): Promise<Response> {
  const input = await parseJson(c.req.raw, createSchema);
  const at = ctx.now();
  const issued = await issueTokenSecret();
  const record: TokenRecord = {
    id: newTokenId(),
    name: input.name,
    hash: issued.hash,
    masked: issued.masked,
    enabled: input.enabled ?? true,
    source: "admin",
    createdAt: at,
  };
  if (input.expiresAt !== undefined) record.expiresAt = futureTime(input.expiresAt, at);
  if (input.models !== undefined) record.models = [...new Set(input.models)];
  const limits = cleanLimits(input.limits ?? {});
  if (limits) record.limits = limits;
  if (!await ctx.store.addToken(record)) {
    throw new HttpError(409, `Token "${record.id}" already exists`);
  }
  await ctx.registry.reload();
  return c.json({ token: tokenView(record, at), secret: issued.secret }, 201);
}

/** `PATCH /:id`: changes; `null` clears one (a single limit, or all of them). */
async function patchToken(ctx: AdminContext, c: Context<BlankEnv, "/:id">): Promise<Response> {
  const patch = await parseJson(c.req.raw, patchSchema);
  const at = ctx.now();
  const next = { ...await find(ctx, c.req.param("id")) };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.enabled !== undefined) next.enabled = patch.enabled;
  if (patch.expiresAt === null) delete next.expiresAt;
  else if (patch.expiresAt !== undefined) next.expiresAt = futureTime(patch.expiresAt, at);
  if (patch.models === null) delete next.models;
  else if (patch.models !== undefined) next.models = [...new Set(patch.models)];
  if (patch.limits === null) delete next.limits;
  else if (patch.limits !== undefined) {
    const merged: Record<string, number | null | undefined> = { ...next.limits };
    for (const limit of LIMIT_NAMES) {
      if (patch.limits[limit] !== undefined) merged[limit] = patch.limits[limit];
    }
    const limits = cleanLimits(merged);
    if (limits) next.limits = limits;
    else delete next.limits;
  }
  await save(ctx, next);
  return c.json(await withUsage(ctx, next, at));
}

async function find(ctx: AdminContext, id: string): Promise<TokenRecord> {
  const record = (await ctx.store.listTokens()).find((t) => t.id === id);
  if (!record) throw new HttpError(404, `Token "${id}" not found`);
  return record;
}

async function save(ctx: AdminContext, record: TokenRecord): Promise<void> {
  const { lastUsedAt: _lastUsedAt, ...stored } = record;
  if (!await ctx.store.updateToken(stored)) {
    throw new HttpError(404, `Token "${record.id}" not found`);
  }
  await ctx.registry.reload();
}

async function withUsage(ctx: AdminContext, record: TokenRecord, at: number) {
  return tokenView(record, at, await ctx.store.readTokenUsage(record.id, at));
}

/** A token as the admin API shows it: no hash, a status, and usage when read. */
function tokenView(record: TokenRecord, at: number, usage?: TokenUsage) {
  const { hash: _hash, ...shown } = record;
  const status = !record.enabled
    ? "disabled"
    : record.expiresAt !== undefined && record.expiresAt <= at
    ? "expired"
    : "enabled";
  return { ...shown, status, ...(usage ? { usage: usageView(usage, at) } : {}) };
}

function usageView(usage: TokenUsage, at: number) {
  const windows = windowNames(at);
  return {
    minute: { requests: usage.minuteRequests },
    today: { day: windows.day.slice(1), requests: usage.dayRequests, tokens: usage.dayTokens },
    month: {
      month: windows.month.slice(1),
      requests: usage.monthRequests,
      tokens: usage.monthTokens,
      /** µUSD spent this Pacific month (reservations of requests in flight included). */
      costMicros: usage.monthCostMicros,
      /** When the month (and a budget) starts again, epoch ms. */
      resetsAt: nextPacificMonthStart(at),
    },
  };
}

/** Limits with unset and cleared ones dropped, or null when none is left. */
function cleanLimits(input: Record<string, number | null | undefined>): TokenLimits | null {
  const out: TokenLimits = {};
  for (const limit of LIMIT_NAMES) {
    const value = input[limit];
    if (typeof value === "number") out[limit] = value;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** An expiry as epoch ms, refused when it has already passed. */
function futureTime(value: number | string, at: number): number {
  const time = typeof value === "number" ? value : Date.parse(value);
  if (time <= at) {
    throw new HttpError(400, `Expiry "${new Date(time).toISOString()}" is in the past`);
  }
  return time;
}
