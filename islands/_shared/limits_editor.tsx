/**
 * Editing per-model caps (`{ "gemini-2.5-flash": { rpm, rpd } }`) as rows of inputs.
 * @module
 */
import type { Signal } from "@preact/signals";

/** One row: a model (or `*`) and its caps, as typed. */
export interface LimitRow {
  model: string;
  rpm: string;
  rpd: string;
}

/**
 * Rows from stored limits.
 * @param limits Stored limits.
 */
export function rowsOf(
  limits: Record<string, { rpm?: number; rpd?: number }> | undefined,
): LimitRow[] {
  return Object.entries(limits ?? {}).map(([model, l]) => ({
    model,
    rpm: l.rpm === undefined ? "" : String(l.rpm),
    rpd: l.rpd === undefined ? "" : String(l.rpd),
  }));
}

/**
 * Limits from rows; rows without a model or without any cap are dropped.
 * @param rows Typed rows.
 * @returns The limits, or null when none is left.
 * @throws {Error} When a cap is not a positive whole number.
 */
export function limitsOf(rows: LimitRow[]): Record<string, { rpm?: number; rpd?: number }> | null {
  const out: Record<string, { rpm?: number; rpd?: number }> = {};
  for (const row of rows) {
    const model = row.model.trim();
    if (!model) continue;
    const caps: { rpm?: number; rpd?: number } = {};
    for (const name of ["rpm", "rpd"] as const) {
      const text = row[name].trim();
      if (!text) continue;
      const n = Number(text);
      if (!Number.isInteger(n) || n <= 0) {
        throw new Error(`"${text}" is not a positive whole number (${name} of ${model})`);
      }
      caps[name] = n;
    }
    if (caps.rpm !== undefined || caps.rpd !== undefined) out[model] = caps;
  }
  return Object.keys(out).length ? out : null;
}

/**
 * The rows editor.
 * @param props The rows signal and an id prefix for labels.
 */
export function LimitsEditor(props: { rows: Signal<LimitRow[]>; idPrefix: string }) {
  const rows = props.rows.value;
  function update(i: number, patch: Partial<LimitRow>) {
    props.rows.value = rows.map((r, j) => j === i ? { ...r, ...patch } : r);
  }
  return (
    <fieldset>
      <legend>Per-model caps</legend>
      <p class="muted small">
        Requests per minute and per Pacific day; <code>*</code> applies to every other model.
      </p>
      {rows.map((row, i) => {
        const id = `${props.idPrefix}-${i}`;
        return (
          <div class="row" key={i}>
            <div class="field">
              <label for={`${id}-model`}>Model</label>
              <input
                id={`${id}-model`}
                value={row.model}
                placeholder="gemini-2.5-flash or *"
                onInput={(e) => update(i, { model: e.currentTarget.value })}
              />
            </div>
            <div class="field">
              <label for={`${id}-rpm`}>RPM</label>
              <input
                id={`${id}-rpm`}
                inputMode="numeric"
                value={row.rpm}
                onInput={(e) => update(i, { rpm: e.currentTarget.value })}
              />
            </div>
            <div class="field">
              <label for={`${id}-rpd`}>RPD</label>
              <input
                id={`${id}-rpd`}
                inputMode="numeric"
                value={row.rpd}
                onInput={(e) => update(i, { rpd: e.currentTarget.value })}
              />
            </div>
            <button
              type="button"
              class="btn small"
              aria-label={`Remove caps row ${i + 1}`}
              onClick={() => props.rows.value = rows.filter((_, j) => j !== i)}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        class="btn small"
        onClick={() => props.rows.value = [...rows, { model: "", rpm: "", rpd: "" }]}
      >
        Add a cap
      </button>
    </fieldset>
  );
}
