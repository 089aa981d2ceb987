/**
 * What requests cost: the model price table (defaults, and the operator's own saved from the
 * console), each finished request's cost from its usage, and proxy tokens' monthly budgets
 * (a reservation when a request is admitted, settled to its real cost when it ends).
 *
 * - {@linkcode recordCost}, {@linkcode costOf}, {@linkcode formatUsd}: a record's cost in µUSD.
 * - {@linkcode DEFAULT_PRICES}, {@linkcode livePrices}, {@linkcode priceTableSchema}: the table.
 * - {@linkcode budgetReservation}, {@linkcode settlement}: budgets.
 * - {@linkcode priceCells}, {@linkcode pricesFromForm}: the console's price form.
 * @module
 */
export { type BudgetRequest, budgetReservation, type ChargeCost, settlement } from "./budget.ts";
export {
  costOf,
  formatUsd,
  isBilled,
  isMetered,
  MICROS_PER_USD,
  type RecordCost,
  recordCost,
} from "./cost.ts";
export {
  type CompiledPrice,
  type CompiledPrices,
  compilePrices,
  DEFAULT_PRICES,
  livePrices,
  type ModelPrice,
  priceFor,
  type PriceRates,
  type PriceTable,
} from "./prices.ts";
export {
  PRICE_SOURCES,
  PRICES_SOURCE,
  PRICES_TAKEN_ON,
  type PriceSource,
} from "./price_sources.ts";
export { MAX_PRICED_MODELS, priceTableSchema } from "./price_schema.ts";
export {
  BLANK_ROWS,
  PRICE_COLUMNS,
  priceCells,
  type PriceColumn,
  pricesFromForm,
} from "./price_form.ts";
