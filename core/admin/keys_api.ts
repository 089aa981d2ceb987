/**
 * Admin API for Gemini keys: list (masked), add, enable/disable, edit labels, validate, delete.
 * @module
 */
import { type Context, Hono } from "hono";
import type { BlankEnv } from "hono/types";
import * as z from "zod";
import { HttpError } from "../errors.ts";
import { DISABLED_BY_ADMIN, validateKeys } from "../rotation/mod.ts";
import { keyId, maskSecret } from "../secrets/mod.ts";
import { splitSecrets } from "../config/mod.ts";
import type { KeyUsageTotal } from "../store/mod.ts";
import type { AdminContext } from "./context.ts";
import { parseJson } from "./validate.ts";

const addSchema = z.object({
  keys: z.union([z.string(), z.array(z.string())]),
  project: z.string().min(1).max(200).optional(),
  /** false: add the keys disabled ("awaiting validation"), to enable only those that validate. */
  enabled: z.boolean().optional(),
});
const patchSchema = z.object({
  enabled: z.boolean().optional(),
  project: z.string().max(200).nullable().optional(),
  weight: z.number().min(0).max(1000).optional(),
  limits: z.record(
    z.string(),
    z.object({
      rpm: z.number().int().positive().optional(),
      rpd: z.number().int().positive().optional(),
    }),
  ).nullable().optional(),
}).strict();

/**
 * Routes for `/admin/api/keys`. Responses never carry a key's value, only its masked form.
 * @param ctx Shared state.
 */
export function keyRoutes(ctx: AdminContext): Hono {
  const api = new Hono();
  api.get("/", (c) => listKeys(ctx, c));
  api.post("/", (c) => addKeys(ctx, c));
  api.patch("/:id", (c) => patchKey(ctx, c));
  api.post("/:id/validate", async (c) => {
    const id = c.req.param("id");
    if (!ctx.registry.keyById(id)) throw new HttpError(404, `Key "${id}" not found`);
    const [result] = await validateKeys([id], {
      registry: ctx.registry,
      store: ctx.store,
      upstreamUrl: ctx.config.upstreamUrl,
      cfAigToken: ctx.config.cfAigToken,
      fetch: ctx.fetch,
      now: ctx.now,
    });
    return c.json(result);
  });
  api.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!await ctx.store.deleteKey(id)) throw new HttpError(404, `Key "${id}" not found`);
    await ctx.registry.reload();
    return c.json({ deleted: id });
  });
  return api;
}

/** `GET /`: every key (masked), its status, cooldowns, usage today and last use and error. */
async function listKeys(ctx: AdminContext, c: Context): Promise<Response> {
  const states = new Map((await ctx.store.listKeyStates()).map((s) => [s.keyId, s]));
  const now = ctx.now();
  const today = usageToday(await ctx.store.readKeyUsage(now));
  return c.json({
    keys: ctx.registry.keys.map((key) => {
      const { sealed: _sealed, ...record } = key.record;
      const cooldowns = ctx.pool.cooldowns()
        .filter((cd) => cd.scope === ctx.pool.scopeOf(key))
        .map((cd) => ({
          model: cd.model,
          until: cd.until,
          seconds: Math.ceil((cd.until - now) / 1000),
          reason: cd.reason,
        }));
      return {
        ...record,
        status: statusOf(record.enabled, cooldowns.length),
        cooldowns,
        usageToday: today.get(key.id) ?? { requests: 0, tokens: 0 },
        ...states.get(key.id),
      };
    }),
  });
}

/** `POST /`: keys pasted as a list or an array; the ones already stored are named apart. */
async function addKeys(ctx: AdminContext, c: Context): Promise<Response> {
  const input = await parseJson(c.req.raw, addSchema);
  const values = typeof input.keys === "string"
    ? splitSecrets(input.keys)
    : [...new Set(input.keys.map((k) => k.trim()).filter(Boolean))];
  if (values.length === 0) throw new HttpError(400, "No key given");
  const added: string[] = [];
  const existing: string[] = [];
  for (const value of values) {
    if (!/^[\w.\-]{20,200}$/.test(value)) {
      throw new HttpError(
        400,
        `Value "${maskSecret(value)}" does not look like a Gemini API key`,
      );
    }
    const id = await keyId(value);
    const ok = await ctx.store.addKey({
      id,
      sealed: await ctx.cipher.encrypt(value),
      masked: maskSecret(value),
      enabled: input.enabled ?? true,
      ...(input.enabled === false
        ? { disabledReason: "awaiting validation", disabledAt: ctx.now() }
        : {}),
      source: "admin",
      createdAt: ctx.now(),
      ...(input.project ? { project: input.project } : {}),
    });
    (ok ? added : existing).push(id);
  }
  await ctx.registry.reload();
  return c.json({ added, existing }, added.length ? 201 : 200);
}

/** `PATCH /:id`: enabled, project, weight, limits. */
async function patchKey(ctx: AdminContext, c: Context<BlankEnv, "/:id">): Promise<Response> {
  const id = c.req.param("id");
  const patch = await parseJson(c.req.raw, patchSchema);
  const current = ctx.registry.keyById(id);
  if (!current) throw new HttpError(404, `Key "${id}" not found`);
  let record = { ...current.record };
  if (patch.enabled !== undefined && patch.enabled !== record.enabled) {
    const updated = await ctx.store.setKeyEnabled(id, patch.enabled, {
      reason: DISABLED_BY_ADMIN,
      at: ctx.now(),
    });
    if (!updated) throw new HttpError(404, `Key "${id}" not found`);
    record = updated;
  }
  if (patch.project !== undefined || patch.weight !== undefined || patch.limits !== undefined) {
    const next = { ...record };
    if (patch.project !== undefined) {
      if (patch.project) next.project = patch.project;
      else delete next.project;
    }
    if (patch.limits !== undefined) {
      if (patch.limits) next.limits = patch.limits;
      else delete next.limits;
    }
    if (patch.weight !== undefined) next.weight = patch.weight;
    if (!await ctx.store.updateKey(next)) throw new HttpError(404, `Key "${id}" not found`);
    record = next;
  }
  await ctx.registry.reload();
  const { sealed: _sealed, ...shown } = ctx.registry.keyById(id)?.record ?? record;
  return c.json(shown);
}

/** Requests and tokens per key in the current Pacific day, summed over models. */
function usageToday(totals: KeyUsageTotal[]): Map<string, { requests: number; tokens: number }> {
  const out = new Map<string, { requests: number; tokens: number }>();
  for (const t of totals) {
    const sum = out.get(t.keyId) ?? { requests: 0, tokens: 0 };
    sum.requests += t.day;
    sum.tokens += t.dayTokens;
    out.set(t.keyId, sum);
  }
  return out;
}

function statusOf(enabled: boolean, cooling: number): "enabled" | "cooling" | "disabled" {
  if (!enabled) return "disabled";
  return cooling > 0 ? "cooling" : "enabled";
}
