/**
 * The Settings page's price table: one editable row per priced model, a few empty rows to add
 * models, and a button that returns to the built-in prices. A plain form (no JavaScript).
 * @module
 */
import type { settingsView } from "../../../core/admin/settings_api.ts";
import { BLANK_ROWS, PRICE_COLUMNS, priceCells } from "../../../core/cost/price_form.ts";

/** Props of {@linkcode PriceTableForm}. */
export interface PriceTableProps {
  /** The settings as the admin API shows them. */
  view: ReturnType<typeof settingsView>;
  /** The session's CSRF token. */
  csrf: string;
}

/**
 * The price table form.
 * @param props Settings and CSRF token.
 */
export function PriceTableForm(props: PriceTableProps) {
  const { view, csrf } = props;
  const saved = view.stored.prices !== undefined;
  const rows = Object.entries(view.effective.prices);
  const blank = Array.from({ length: BLANK_ROWS }, (_, i) => rows.length + i);
  return (
    <section class="card" id="prices" aria-labelledby="prices-title">
      <h2 id="prices-title">Model prices</h2>
      <p class="muted small">
        USD per 1M tokens; thinking tokens are billed as output. Long-prompt rates apply to the
        whole request when its prompt has more tokens than the threshold. Empty cells take their
        default (cached: input; audio input: input; cached audio: cached). Clear a model's name to
        remove it. A model without a price costs "unknown", and tokens with a budget may not use it.
        {" "}
        {saved
          ? "This table was saved here and replaces the built-in one."
          : `These are Google's published prices (${view.pricesSource.url}), from dated copies of that page read up to ${view.pricesSource.takenOn}.`}
      </p>
      <details class="small" data-price-sources>
        <summary>Where each built-in price comes from</summary>
        <ul>
          {Object.entries(view.pricesSource.models).map(([model, sources]) => (
            <li key={model}>
              <span class="mono">{model}</span>:{" "}
              {sources.map((source, i) => (
                <span key={source.url + source.takenOn}>
                  {i > 0 && "; "}
                  {source.gives}, read {source.takenOn}{" "}
                  <a href={source.url} rel="noreferrer noopener">{source.name}</a>
                </span>
              ))}
            </li>
          ))}
        </ul>
      </details>
      <form method="post" action="/admin/settings#prices">
        <input type="hidden" name="_csrf" value={csrf} />
        <input type="hidden" name="_form" value="prices" />
        <div class="table-wrap">
          <table class="data prices">
            <thead>
              <tr>
                <th scope="col">Model</th>
                {PRICE_COLUMNS.map((c) => <th key={c.name} scope="col" class="num">{c.label}</th>)}
              </tr>
            </thead>
            <tbody>
              {rows.map(([model, price], row) => (
                <PriceRow key={model} row={row} model={model} cells={priceCells(price)} />
              ))}
              {blank.map((row) => <PriceRow key={`new-${row}`} row={row} model="" cells={{}} />)}
            </tbody>
          </table>
        </div>
        <button type="submit" class="btn primary">Save prices</button>
      </form>
      {saved && (
        <form method="post" action="/admin/settings#prices">
          <input type="hidden" name="_csrf" value={csrf} />
          <input type="hidden" name="_form" value="prices-reset" />
          <button type="submit" class="btn">
            Return to the built-in prices (read up to {view.pricesSource.takenOn})
          </button>
        </form>
      )}
    </section>
  );
}

function PriceRow(props: { row: number; model: string; cells: Record<string, string> }) {
  const { row, model, cells } = props;
  const label = model || `new model ${row + 1}`;
  return (
    <tr data-model={model || undefined}>
      <td>
        <input
          type="text"
          name={`p.${row}.model`}
          value={model}
          placeholder="model id"
          aria-label={`Model of row ${row + 1}`}
          maxLength={80}
          size={26}
        />
      </td>
      {PRICE_COLUMNS.map((c) => (
        <td key={c.name} class="num">
          <input
            type="text"
            inputMode="decimal"
            name={`p.${row}.${c.name}`}
            value={cells[c.name] ?? ""}
            aria-label={`${label}: ${c.label}`}
            size={8}
          />
        </td>
      ))}
    </tr>
  );
}
