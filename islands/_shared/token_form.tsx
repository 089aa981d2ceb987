/**
 * The form that creates or edits a proxy token: name, model allow-list, limits, monthly budget
 * in USD, expiry, state.
 * @module
 */
import { useSignal } from "@preact/signals";
import { messageOf } from "./api.ts";
import type { TokenView } from "./types.ts";
import { parseUsd, usdInput } from "./usd.ts";
import { fromUtcInput, utcInputValue } from "./format.ts";

/** What the form produces: the admin API's create or patch body. */
export interface TokenInput {
  name: string;
  models: string[] | null;
  /** `budgetMicros`: the monthly budget in µUSD; null for none. */
  limits: {
    rpm: number | null;
    rpd: number | null;
    tpd: number | null;
    budgetMicros: number | null;
  };
  expiresAt: string | null;
  enabled: boolean;
}

/** Props of {@linkcode TokenForm}. */
export interface TokenFormProps {
  /** The token being edited; none to create one. */
  token?: TokenView;
  /** Sends the input; throws with a message to show. */
  onSubmit: (input: TokenInput) => Promise<void>;
  /** Closes the form. */
  onCancel: () => void;
}

const LIMITS = [
  ["rpm", "Requests per minute"],
  ["rpd", "Requests per day"],
  ["tpd", "Tokens per day"],
] as const;

/**
 * The token form.
 * @param props Token to edit and callbacks.
 */
export function TokenForm(props: TokenFormProps) {
  const t = props.token;
  const id = t ? `edit-${t.id}` : "new-token";
  const name = useSignal(t?.name ?? "");
  const models = useSignal((t?.models ?? []).join(", "));
  const limits = useSignal<Record<string, string>>({
    rpm: t?.limits?.rpm?.toString() ?? "",
    rpd: t?.limits?.rpd?.toString() ?? "",
    tpd: t?.limits?.tpd?.toString() ?? "",
  });
  const budget = useSignal(usdInput(t?.limits?.budgetMicros));
  const expires = useSignal(t?.expiresAt ? utcInputValue(t.expiresAt) : "");
  const enabled = useSignal(t?.enabled ?? true);
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  async function submit(event: Event) {
    event.preventDefault();
    error.value = null;
    busy.value = true;
    try {
      const parsed: TokenInput["limits"] = { rpm: null, rpd: null, tpd: null, budgetMicros: null };
      for (const [limit, label] of LIMITS) {
        const text = limits.value[limit]?.trim() ?? "";
        if (!text) continue;
        const n = Number(text);
        if (!Number.isInteger(n) || n <= 0) {
          throw new Error(`${label}: "${text}" is not a positive whole number`);
        }
        parsed[limit] = n;
      }
      try {
        parsed.budgetMicros = parseUsd(budget.value);
      } catch (e) {
        throw new Error(`Monthly budget: ${messageOf(e)}`);
      }
      const patterns = models.value.split(/[\s,]+/).filter(Boolean);
      await props.onSubmit({
        name: name.value.trim(),
        models: patterns.length ? patterns : null,
        limits: parsed,
        expiresAt: expiresAt(expires.value),
        enabled: enabled.value,
      });
    } catch (e) {
      error.value = messageOf(e);
    } finally {
      busy.value = false;
    }
  }

  return (
    <form onSubmit={submit} aria-label={t ? `Edit token ${t.name}` : "New token"}>
      <div class="row">
        <div class="field">
          <label for={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            required
            maxLength={100}
            value={name}
            placeholder="mobile app"
            onInput={(e) => name.value = e.currentTarget.value}
          />
        </div>
        <div class="field">
          <label for={`${id}-models`}>Allowed models</label>
          <input
            id={`${id}-models`}
            value={models}
            placeholder="all models"
            aria-describedby={`${id}-models-hint`}
            onInput={(e) => models.value = e.currentTarget.value}
          />
          <span class="hint" id={`${id}-models-hint`}>
            Patterns separated by commas, e.g. <code>gemini-2.5-*</code>; empty allows every model.
          </span>
        </div>
      </div>
      <div class="row">
        {LIMITS.map(([limit, label]) => (
          <div class="field" key={limit}>
            <label for={`${id}-${limit}`}>{label}</label>
            <input
              id={`${id}-${limit}`}
              inputMode="numeric"
              value={limits.value[limit]}
              placeholder="unlimited"
              onInput={(e) => limits.value = { ...limits.value, [limit]: e.currentTarget.value }}
            />
          </div>
        ))}
        <div class="field">
          <label for={`${id}-budget`}>Monthly budget (USD)</label>
          <input
            id={`${id}-budget`}
            inputMode="decimal"
            value={budget}
            placeholder="no budget"
            aria-describedby={`${id}-budget-hint`}
            onInput={(e) => budget.value = e.currentTarget.value}
          />
          <span class="hint" id={`${id}-budget-hint`}>
            Per Pacific month, e.g. <code>25</code> or <code>0.50</code>.
          </span>
        </div>
        <div class="field">
          <label for={`${id}-expires`}>Expires (UTC)</label>
          <input
            id={`${id}-expires`}
            type="datetime-local"
            value={expires}
            onInput={(e) => expires.value = e.currentTarget.value}
          />
        </div>
      </div>
      {t && (
        <label class="check">
          <input
            type="checkbox"
            checked={enabled}
            onChange={(e) => enabled.value = e.currentTarget.checked}
          />
          Enabled
        </label>
      )}
      {error.value && <p class="notice bad" role="alert">{error.value}</p>}
      <div class="actions" style={{ marginTop: "0.75rem" }}>
        <button type="submit" class="btn primary" disabled={busy.value}>
          {t ? "Save" : "Create token"}
        </button>
        <button type="button" class="btn" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** The expiry to send: the input read as UTC, or null when empty. */
function expiresAt(value: string): string | null {
  const at = fromUtcInput(value);
  return at === null ? null : new Date(at).toISOString();
}
