/**
 * The settings page: a plain form (no JavaScript). Values forced by environment variables are
 * shown read-only; an empty field returns a setting to its default.
 * @module
 */
import { settingsView } from "../../core/admin/settings_api.ts";
import { unsharedStoreError } from "../../core/admin/unshared_store.ts";
import type { ConsoleState } from "../../core/admin/console.ts";
import { pricesFromForm } from "../../core/cost/price_form.ts";
import { HttpError } from "../../core/errors.ts";
import {
  type SettingName,
  type Settings,
  type SettingsPatch,
  settingsPatchSchema,
} from "../../core/config/mod.ts";
import type { Handlers, PageProps } from "../../core/web/types.ts";
import { PageTitle } from "./_components/page_title.tsx";
import { PriceTableForm } from "./_components/price_table.tsx";

/** What the page shows. */
export interface SettingsData {
  /** The settings as the admin API shows them. */
  view: ReturnType<typeof settingsView>;
  /** The last save worked. */
  saved?: boolean;
  /** Why the last save failed. */
  error?: string;
  /** A new upstream host waiting for the admin's confirmation, and the URL typed. */
  confirmUpstream?: { host: string; url: string };
}

interface FieldSpec {
  name: Exclude<SettingName, "prices">;
  label: string;
  hint: string;
  kind: "number" | "url" | "select";
  options?: [string, string][];
  min?: number;
  max?: number;
  step?: string;
}

const FIELDS: FieldSpec[] = [
  {
    name: "strategy",
    label: "Rotation strategy",
    hint: "How the next key is picked among those free to serve the model.",
    kind: "select",
    options: [["round_robin", "Round robin"], ["least_used", "Least used"], [
      "weighted",
      "Weighted",
    ]],
  },
  {
    name: "maxAttempts",
    label: "Max attempts",
    hint: "Distinct keys tried for one request before its error reaches the client (1 to 20).",
    kind: "number",
    min: 1,
    max: 20,
  },
  {
    name: "waitWhenExhaustedMs",
    label: "Wait when exhausted (ms)",
    hint: "When every key rests, wait up to this long for one to free up; 0 answers 429 at once.",
    kind: "number",
    min: 0,
    max: 600000,
  },
  {
    name: "upstreamUrl",
    label: "Upstream URL",
    hint: "Google's API, or a Cloudflare AI Gateway URL. Every request sends a real key to this " +
      "host: change it only to a host you control or trust.",
    kind: "url",
  },
  {
    name: "logBodies",
    label: "Log bodies",
    hint: "Which request and response bodies request logs keep (8 KB at most, keys masked).",
    kind: "select",
    options: [["none", "None"], ["errors", "Errors only"], ["all", "All"]],
  },
  {
    name: "logRetentionDays",
    label: "Log retention (days)",
    hint: "Records older than this expire.",
    kind: "number",
    min: 0.01,
    max: 3650,
    step: "any",
  },
];

/** `GET` shows the settings; `POST` validates and saves the form, then redirects. */
export const handler: Handlers<ConsoleState> = {
  GET(ctx) {
    const view = settingsView(ctx.state.deps.settings);
    return ctx.render({ view, saved: ctx.url.searchParams.has("saved") } satisfies SettingsData);
  },
  async POST(ctx) {
    const settings = ctx.state.deps.settings;
    const form = await ctx.req.formData();
    const which = form.get("_form");
    if (which === "prices" || which === "prices-reset") {
      const parsed = which === "prices" ? pricesFromForm(form) : { table: null };
      const error = "error" in parsed ? { message: parsed.error, status: 400 } : await save(
        settings,
        { prices: parsed.table },
        ctx.state.deps.admin.unsharedStore,
      );
      if (error) {
        const data = { view: settingsView(settings), error: error.message };
        return ctx.render(data satisfies SettingsData, { status: error.status });
      }
      return ctx.redirect("/admin/settings?saved#prices");
    }
    const patch: Record<string, unknown> = {};
    for (const field of FIELDS) {
      if (settings.forced[field.name]) continue;
      const raw = String(form.get(field.name) ?? "").trim();
      patch[field.name] = raw === "" ? null : field.kind === "number" ? Number(raw) : raw;
    }
    const parsed = settingsPatchSchema.safeParse(patch);
    let error: string | undefined;
    const moved = parsed.success ? upstreamMove(ctx.state.deps.settings, patch) : null;
    if (moved && form.get("confirmUpstream") !== moved.host) {
      return ctx.render(
        {
          view: settingsView(settings),
          error: `Changing the upstream URL sends every Gemini key to ${moved.host}. ` +
            "Confirm below to save.",
          confirmUpstream: moved,
        } satisfies SettingsData,
        { status: 409 },
      );
    }
    let status = 400;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = FIELDS.find((f) => f.name === issue?.path[0]);
      error = `${field?.label ?? "A setting"}: ${issue?.message ?? "invalid value"}`;
    } else {
      const failed = await save(
        settings,
        parsed.data as SettingsPatch,
        ctx.state.deps.admin.unsharedStore,
      );
      if (failed) [error, status] = [failed.message, failed.status];
    }
    if (error) {
      return ctx.render({ view: settingsView(settings), error } satisfies SettingsData, { status });
    }
    return ctx.redirect("/admin/settings?saved");
  },
};

/** Saves a change; answers what went wrong in words, or null. */
async function save(
  settings: Settings,
  patch: SettingsPatch,
  unshared: Parameters<typeof unsharedStoreError>[0] | undefined,
): Promise<{ message: string; status: number } | null> {
  try {
    if (unshared) throw unsharedStoreError(unshared);
    await settings.save(patch);
    return null;
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return { message: e.message, status: e.code };
  }
}

/**
 * The settings form.
 * @param props Settings and the outcome of the last save.
 */
export default function SettingsPage(props: PageProps<SettingsData, ConsoleState>) {
  const { view, saved, error, confirmUpstream } = props.data;
  const csrf = props.state.session?.csrf ?? "";
  return (
    <>
      <PageTitle title="Settings" />
      <div class="page-head">
        <h1>Settings</h1>
      </div>
      {saved && (
        <p class="notice ok" role="status">
          Saved. Every process sharing the store follows within a second.
        </p>
      )}
      {error && <p class="notice bad" role="alert">{error}</p>}
      <form class="card" method="post" action="/admin/settings">
        <input type="hidden" name="_csrf" value={csrf} />
        {FIELDS.map((field) => (
          <Field
            key={field.name}
            field={field}
            view={view}
            typed={field.name === "upstreamUrl" ? confirmUpstream?.url : undefined}
          />
        ))}
        {confirmUpstream && (
          <div class="notice warn" data-confirm-upstream>
            <label class="check">
              <input type="checkbox" name="confirmUpstream" value={confirmUpstream.host} required />
              Send every Gemini key to <strong class="mono">{confirmUpstream.host}</strong>
            </label>
          </div>
        )}
        <button type="submit" class="btn primary">Save settings</button>
      </form>
      <PriceTableForm view={view} csrf={csrf} />
      <p class="muted small">
        Other options (keys, tokens, limits, timeouts) come from environment variables; see the
        README.
      </p>
    </>
  );
}

function Field(
  props: { field: FieldSpec; view: SettingsData["view"]; typed?: string | undefined },
) {
  const { field, view } = props;
  const id = `s-${field.name}`;
  const forcedBy = view.forced[field.name];
  const stored = view.stored[field.name];
  const effective = String(view.effective[field.name]);
  const fallback = String(view.defaults[field.name]);
  const value = props.typed ?? (forcedBy ? effective : stored === undefined ? "" : String(stored));
  const common = {
    id,
    name: field.name,
    value,
    placeholder: `default: ${fallback}`,
    disabled: !!forcedBy,
    "aria-describedby": `${id}-hint`,
  };
  return (
    <div class="field" data-setting={field.name}>
      <label for={id}>
        {field.label} {forcedBy && <span class="pill warn">set by {forcedBy}</span>}
      </label>
      {field.kind === "select"
        ? (
          <select id={id} name={field.name} disabled={!!forcedBy} aria-describedby={`${id}-hint`}>
            {!forcedBy && <option value="" selected={value === ""}>Default ({fallback})</option>}
            {field.options!.map(([v, label]) => (
              <option key={v} value={v} selected={value === v}>{label}</option>
            ))}
          </select>
        )
        : field.kind === "url"
        ? <input type="url" {...common} />
        : (
          <input
            type="number"
            {...common}
            {...(field.min !== undefined ? { min: field.min } : {})}
            {...(field.max !== undefined ? { max: field.max } : {})}
            {...(field.step ? { step: field.step } : {})}
          />
        )}
      <span class="hint" id={`${id}-hint`}>
        {field.hint}
        {forcedBy
          ? ` Forced by the environment variable ${forcedBy}: change it there.`
          : ` In effect: ${effective}.`}
      </span>
    </div>
  );
}

/**
 * The new upstream host when a save would move the upstream elsewhere (every key would go there),
 * or null when it stays.
 */
function upstreamMove(
  settings: ConsoleState["deps"]["settings"],
  patch: Record<string, unknown>,
): { host: string; url: string } | null {
  if (!("upstreamUrl" in patch)) return null;
  const view = settingsView(settings);
  const next = String(patch.upstreamUrl ?? view.defaults.upstreamUrl).replace(/\/+$/, "");
  const current = String(view.effective.upstreamUrl).replace(/\/+$/, "");
  if (next === current) return null;
  try {
    const url = new URL(next);
    return { host: url.host, url: patch.upstreamUrl === null ? "" : next };
  } catch {
    return null;
  }
}
