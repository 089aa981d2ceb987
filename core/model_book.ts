/**
 * Which model names get state of their own. Model names come from clients (the path, OpenAI
 * bodies), so any map keyed by them would grow with every name a client invents. A name earns its
 * own counters, metric labels and aggregate rows only once upstream has answered a request for it
 * with success, or when the operator names it (KEY_LIMITS, a key's own limits, a token's
 * allow-list). Every other name shares one slot, {@linkcode OTHER_MODEL}.
 * @module
 */
import type { KeyLimits } from "./key_pool.ts";
import type { ActiveKey } from "./registry.ts";
import type { TokenRecord } from "./store/store.ts";

/** The shared slot of every model name the book does not know. */
export const OTHER_MODEL = "other";
/** Most names confirmed by upstream that are kept (Google serves a few dozen models). */
export const CONFIRMED_MODELS_MAX = 256;

/** Options of {@linkcode createModelBook}. */
export interface ModelBookOptions {
  /** Names the operator configured; called often, so return the same set until it changes. */
  configured?: () => ReadonlySet<string>;
  /** Most confirmed names kept (default {@linkcode CONFIRMED_MODELS_MAX}). */
  max?: number;
}

/** The names that get state of their own. */
export interface ModelBook {
  /** Records that upstream answered a request for the model with success (capped). */
  confirm(model: string): void;
  /** Whether the model was confirmed or is configured. */
  known(model: string): boolean;
  /** The model when known, else {@linkcode OTHER_MODEL}. */
  fold(model: string): string;
  /** Confirmed names kept. */
  readonly confirmed: number;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Creates an empty book.
 * @param options Configured names and the cap.
 * @example
 * ```ts
 * const book = createModelBook();
 * book.fold("gemini-9-invented"); // "other"
 * book.confirm("gemini-2.5-flash");
 * book.fold("gemini-2.5-flash"); // "gemini-2.5-flash"
 * ```
 */
export function createModelBook(options: ModelBookOptions = {}): ModelBook {
  const max = options.max ?? CONFIRMED_MODELS_MAX;
  const configured = options.configured ?? (() => NONE);
  const confirmed = new Set<string>();
  function known(model: string): boolean {
    return confirmed.has(model) || configured().has(model);
  }
  return {
    confirm(model) {
      if (confirmed.size < max && model !== OTHER_MODEL) confirmed.add(model);
    },
    known,
    fold: (model) => known(model) ? model : OTHER_MODEL,
    get confirmed() {
      return confirmed.size;
    },
  };
}

/** Where operators name models. */
export interface ConfiguredSources {
  /** KEY_LIMITS. */
  limits?: KeyLimits | undefined;
  /** Keys, whose own limits may name models. */
  keys?: readonly ActiveKey[];
  /** Tokens, whose allow-lists may name models (patterns with wildcards name none). */
  tokens?: readonly TokenRecord[];
}

/**
 * The names configured in limits and allow-lists, recomputed only when a source changes identity.
 * @param sources Reads the current sources.
 * @returns A function for {@linkcode ModelBookOptions.configured}.
 */
export function configuredModels(sources: () => ConfiguredSources): () => ReadonlySet<string> {
  let last: ConfiguredSources = {};
  let names: ReadonlySet<string> = NONE;
  return function configured(): ReadonlySet<string> {
    const now = sources();
    if (now.limits === last.limits && now.keys === last.keys && now.tokens === last.tokens) {
      return names;
    }
    last = now;
    const found = new Set<string>();
    const add = (name: string) => {
      const id = name.replace(/^models\//, "");
      if (id !== "*" && !/[*?]/.test(id)) found.add(id);
    };
    for (const name of Object.keys(now.limits ?? {})) add(name);
    for (const key of now.keys ?? []) {
      for (const name of Object.keys(key.record.limits ?? {})) add(name);
    }
    for (const token of now.tokens ?? []) for (const name of token.models ?? []) add(name);
    return names = found;
  };
}
