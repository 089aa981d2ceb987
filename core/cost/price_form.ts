/**
 * The price table as the console's Settings form sends it: one row per model, cells named
 * `p.<row>.<column>`. A row whose model cell is empty is dropped (clearing a name removes the
 * model); an empty optional cell takes its default.
 * @module
 */
import { MAX_PRICED_MODELS, priceTableSchema } from "./price_schema.ts";
import type { ModelPrice, PriceRates, PriceTable } from "./prices.ts";

/** One column of the form: its cell name and heading. */
export interface PriceColumn {
  /** Cell name (`p.<row>.<name>`). */
  name: string;
  /** Column heading. */
  label: string;
  /** Whether a priced model must fill it. */
  required?: boolean;
}

/** The form's columns, in order (after the model id). */
export const PRICE_COLUMNS: PriceColumn[] = [
  { name: "input", label: "Input", required: true },
  { name: "output", label: "Output (incl. thinking)", required: true },
  { name: "cached", label: "Cached input" },
  { name: "audioInput", label: "Audio input" },
  { name: "audioCached", label: "Cached audio" },
  { name: "above", label: "Long prompts: above (tokens)" },
  { name: "longInput", label: "Long: input" },
  { name: "longOutput", label: "Long: output" },
  { name: "longCached", label: "Long: cached" },
  { name: "longAudioInput", label: "Long: audio input" },
  { name: "longAudioCached", label: "Long: cached audio" },
];

/** Empty rows offered for new models below the priced ones. */
export const BLANK_ROWS = 5;

/**
 * The form cells of a model's price, by column name (numbers as typed, empty when unset).
 * @param price The model's price.
 */
export function priceCells(price: ModelPrice): Record<string, string> {
  const long = price.longContext;
  const cell = (value: number | undefined) => value === undefined ? "" : String(value);
  return {
    input: cell(price.input),
    output: cell(price.output),
    cached: cell(price.cached),
    audioInput: cell(price.audioInput),
    audioCached: cell(price.audioCached),
    above: cell(long?.above),
    longInput: cell(long?.input),
    longOutput: cell(long?.output),
    longCached: cell(long?.cached),
    longAudioInput: cell(long?.audioInput),
    longAudioCached: cell(long?.audioCached),
  };
}

/**
 * Reads and validates the table from a submitted form.
 * @param form The form data.
 * @returns The table, or the first problem in words.
 */
export function pricesFromForm(form: FormData): { table: PriceTable } | { error: string } {
  const table: PriceTable = {};
  for (let row = 0; row < MAX_PRICED_MODELS + BLANK_ROWS; row++) {
    const model = String(form.get(`p.${row}.model`) ?? "").trim();
    if (!model) continue;
    if (Object.hasOwn(table, model)) {
      return { error: `Prices: model "${clip(model)}" is listed twice` };
    }
    const cells: Record<string, number | undefined> = {};
    for (const column of PRICE_COLUMNS) {
      const raw = String(form.get(`p.${row}.${column.name}`) ?? "").trim();
      if (raw === "") {
        if (column.required) {
          return {
            error: `Prices: "${clip(model)}" needs its ${column.label.toLowerCase()} price`,
          };
        }
        continue;
      }
      const value = Number(raw);
      if (!Number.isFinite(value)) {
        return {
          error: `Prices: "${clip(model)}" ${column.label}: "${clip(raw)}" is not a number`,
        };
      }
      cells[column.name] = value;
    }
    const price = modelPrice(cells);
    if (typeof price === "string") return { error: `Prices: "${clip(model)}" ${price}` };
    table[model] = price;
  }
  const parsed = priceTableSchema.safeParse(table);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join(" ") ?? "";
    return { error: `Prices: ${where ? `${clip(where)}: ` : ""}${issue?.message ?? "invalid"}` };
  }
  return { table: parsed.data };
}

/** A model's price from its cells, or what is wrong with them. */
function modelPrice(cells: Record<string, number | undefined>): ModelPrice | string {
  const rates = (prefix: "" | "long"): Partial<PriceRates> => {
    const name = (field: string) =>
      prefix ? `long${field[0]!.toUpperCase()}${field.slice(1)}` : field;
    const out: Partial<PriceRates> = {};
    for (const field of ["input", "output", "cached", "audioInput", "audioCached"] as const) {
      const value = cells[name(field)];
      if (value !== undefined) out[field] = value;
    }
    return out;
  };
  const price = rates("") as ModelPrice;
  const long = rates("long");
  const above = cells.above;
  if (above === undefined) {
    return Object.keys(long).length > 0 ? "has long-prompt prices but no threshold" : price;
  }
  if (long.input === undefined || long.output === undefined) {
    return "has a long-prompt threshold but no long-prompt input and output prices";
  }
  price.longContext = { ...long as PriceRates, above };
  return price;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
