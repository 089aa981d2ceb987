/**
 * Counters of many rows packed into a few Deno KV values.
 *
 * Summed one KV entry per counter, a second of traffic over thousands of keys costs tens of
 * thousands of mutations (each key's counters in each bucket), and so does reading them back.
 * Here each writer (each {@linkcode PackedCounters}, one per process and store) keeps its own
 * running totals per scope (a bucket or a window) and rewrites them whole:
 * `[prefix, ...scope, segment, part]` holds a `set` of up to about 60 KB of rows, as JSON bytes.
 *
 * - The segment is the writer's own random id, so no other writer ever touches its values: a
 *   rewrite needs no read and no check, and repeating it (a retry after a failed commit, a crash
 *   between two parts) never counts anything twice.
 * - Readers add up the rows of every segment ({@linkcode readPacked}); processes sharing a store
 *   add up exactly, as with atomic sums.
 * - Only parts whose rows changed since the last write are rewritten. A scope no one has added to
 *   for a while is forgotten once written; if it comes back (a late record), it gets a new segment,
 *   whose rows readers add to the old one's.
 * @module
 */
import { commitInBatches, keySize, type Mutation } from "./kv_batch.ts";
import type { KvDatabase, KvKey, KvListSelector } from "./kv_database.ts";
import { SerialRuns } from "../../utils/mod.ts";

/** Most bytes of rows in one value (Deno KV refuses values over 65,536 bytes). */
export const PART_BYTES = 60_000;
/** Labels are clipped to this many characters, so one row always fits a part. */
export const MAX_LABEL_CHARS = 1_000;
/** A written scope no one added to for this long is forgotten, ms. */
const IDLE_MS = 2 * 60_000;
/** Bytes a number and its separators take at most in a part's JSON. */
const NUMBER_BYTES = 26;

/** A part of a key naming a scope: a granularity, a bucket start, a window name. */
export type ScopePart = string | number;

/** Options of {@linkcode PackedCounters}. */
export interface PackedCountersOptions {
  /** First part of every key. */
  prefix: string;
  /** Clock (epoch ms), for forgetting idle scopes. */
  now: () => number;
  /** The writer's id (default: random); tests name it. */
  segment?: string;
}

/**
 * Past this many fields a fragment indexes them in a map; below, a scan of its cells is faster
 * and costs no memory (most rows hold a handful of counters).
 */
const SCANNED_FIELDS = 16;

interface Part {
  index: number;
  /** Labels per row (the same for every row of a writer). */
  labelCount: number;
  fragments: Fragment[];
  /** Upper bound of the part's JSON size, bytes. */
  bytes: number;
  dirty: boolean;
}

interface Scope {
  key: ScopePart[];
  segment: string;
  rows: Map<string, Fragment>;
  parts: Part[];
  touchedAt: number;
}

/** One row of a writer's totals: its labels in a scope (see {@linkcode PackedCounters.row}). */
export interface PackedRow {
  /**
   * Adds to one of the row's counters. Nothing for zero, less, or a value that is not finite.
   * @param field The counter's name (clipped to {@linkcode MAX_LABEL_CHARS}).
   * @param value The amount.
   */
  add(field: string, value: number): void;
}

/**
 * Some of a row's counters, in one part, kept as the part stores them: `cells` is the row's
 * JSON array, `[...labels, field, value, field, value, ...]`, so writing a part copies nothing.
 * A row whose part filled up goes on in another fragment, under the same labels.
 */
class Fragment implements PackedRow {
  readonly #scope: Scope;
  readonly cells: (string | number)[];
  readonly part: Part;
  /** The row's continuation in a later part, once this part had no room for a new field. */
  next: Fragment | null = null;
  /** Cell index of each field's name, once there are more than {@linkcode SCANNED_FIELDS}. */
  #index: Map<string, number> | null = null;

  constructor(scope: Scope, labels: string[], part: Part) {
    this.#scope = scope;
    this.cells = labels;
    this.part = part;
  }

  add(field: string, value: number): void {
    if (value > 0 && Number.isFinite(value)) Fragment.#addTo(this, clip(field), value);
  }

  /** Adds to a row's field where it is, or appends it to the row's last fragment. */
  static #addTo(first: Fragment, name: string, value: number): void {
    let f = first;
    for (;;) {
      const at = f.#find(name);
      if (at >= 0) {
        f.cells[at + 1] = (f.cells[at + 1] as number) + value;
        f.part.dirty = true;
        return;
      }
      if (!f.next) break;
      f = f.next;
    }
    const cost = jsonBytes(name) + NUMBER_BYTES;
    if (f.part.bytes + cost > PART_BYTES) {
      // The part is full: the row goes on in the open part, under the same labels.
      f = f.next = place(first.#scope, first.cells.slice(0, first.part.labelCount) as string[]);
    }
    f.#append(name, value);
    f.part.bytes += cost;
    f.part.dirty = true;
  }

  /** The cell index of a field's name in this fragment, or -1. */
  #find(name: string): number {
    if (this.#index) return this.#index.get(name) ?? -1;
    const cells = this.cells;
    for (let i = this.part.labelCount; i < cells.length; i += 2) if (cells[i] === name) return i;
    return -1;
  }

  #append(name: string, value: number): void {
    const at = this.cells.length;
    this.cells.push(name, value);
    if (this.#index) this.#index.set(name, at);
    else if ((at - this.part.labelCount) / 2 >= SCANNED_FIELDS) {
      this.#index = new Map();
      for (let i = this.part.labelCount; i < this.cells.length; i += 2) {
        this.#index.set(this.cells[i] as string, i);
      }
    }
  }
}

/** One writer's running totals, rewritten as packed values. */
export class PackedCounters {
  #kv: KvDatabase;
  #prefix: string;
  #now: () => number;
  #segment: string;
  #scopes = new Map<string, Scope>();
  /** Scopes created so far, for fresh segment names. */
  #created = 0;
  /** Writes, one at a time. */
  #writes = new SerialRuns<void>(() => this.#writeChanged());

  /**
   * @param kv The database.
   * @param options Key prefix and clock.
   */
  constructor(kv: KvDatabase, options: PackedCountersOptions) {
    this.#kv = kv;
    this.#prefix = options.prefix;
    this.#now = options.now;
    this.#segment = options.segment ?? crypto.randomUUID().slice(0, 13);
  }

  /** Rows held in memory (every scope's). */
  get rows(): number {
    let n = 0;
    for (const scope of this.#scopes.values()) n += scope.rows.size;
    return n;
  }

  /** Parts changed since they were last written. */
  get dirtyParts(): number {
    let n = 0;
    for (const scope of this.#scopes.values()) {
      for (const part of scope.parts) if (part.dirty) n++;
    }
    return n;
  }

  /**
   * A row of a scope, to add to (created when new).
   * @param scope The bucket or window (strings and numbers; the key parts after the prefix).
   * @param labels The row's labels (a key id, a model...), always as many for one prefix; each
   * clipped to {@linkcode MAX_LABEL_CHARS}.
   */
  row(scope: readonly ScopePart[], labels: readonly string[]): PackedRow {
    const s = this.#scope(scope);
    s.touchedAt = this.#now();
    let id = labels.join("\u0000");
    // Rows are held by their clipped labels: a huge label costs no more memory than a short one.
    if (id.length > MAX_LABEL_CHARS) id = labels.map(clip).join("\u0000");
    let row = s.rows.get(id);
    if (!row) s.rows.set(id, row = place(s, labels.map(clip)));
    return row;
  }

  /**
   * Writes every part that changed since it was last written, then forgets scopes that were
   * written and left idle. Writes run one at a time: one asked for meanwhile follows the one on its way.
   * @throws {Error} When KV refuses a commit: the parts stay changed and the next write retries
   * them.
   */
  write(): Promise<void> {
    // A write asked for while one runs follows it, shared by every call made meanwhile: it takes
    // every part changed by then.
    return this.#writes.fresh();
  }

  async #writeChanged(): Promise<void> {
    const taken: Part[] = [];
    try {
      // Parts are encoded as the commits take them, several to a commit: yielding between
      // parts, or committing fewer at once, measured slower with 10,000 keys.
      await commitInBatches(this.#kv, this.#changedParts(taken));
    } catch (error) {
      for (const part of taken) part.dirty = true;
      throw error;
    }
    const at = this.#now();
    for (const [id, scope] of this.#scopes) {
      if (at - scope.touchedAt >= IDLE_MS && scope.parts.every((p) => !p.dirty)) {
        this.#scopes.delete(id);
      }
    }
  }

  /** The changed parts as `set`s, each encoded when reached and marked written (in `taken`). */
  *#changedParts(taken: Part[]): Generator<Mutation> {
    for (const scope of this.#scopes.values()) {
      for (const part of scope.parts) {
        if (!part.dirty) continue;
        const key: KvKey = [this.#prefix, ...scope.key, scope.segment, part.index];
        const value = encodePart(part);
        const keyBytes = keySize(key);
        part.dirty = false;
        taken.push(part);
        yield { bytes: value.length + keyBytes, keyBytes, apply: (op) => void op.set(key, value) };
      }
    }
  }

  #scope(key: readonly ScopePart[]): Scope {
    const id = key.join("\u0000");
    let scope = this.#scopes.get(id);
    if (!scope) {
      scope = {
        key: [...key],
        segment: `${this.#segment}.${this.#created++}`,
        rows: new Map(),
        parts: [],
        touchedAt: 0,
      };
      this.#scopes.set(id, scope);
    }
    return scope;
  }
}

/**
 * Reads packed rows and hands each to `visit`, one call per row and segment (a row a writer
 * continued in a later part comes once per part): add them up.
 * @param kv The database.
 * @param selector The scopes to read: a prefix or range under `[prefix, ...scope]`.
 * @param visit Called with the scope (the key parts between the prefix and the segment), the row's
 * labels and its counters.
 */
export async function readPacked(
  kv: KvDatabase,
  selector: KvListSelector,
  visit: (scope: ScopePart[], labels: string[], fields: Record<string, number>) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const entry of kv.list<Uint8Array>(selector, { batchSize: 100 })) {
    if (!(entry.value instanceof Uint8Array)) continue;
    const scope = entry.key.slice(1, -2) as ScopePart[];
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(entry.value));
    } catch {
      continue;
    }
    // A value this module did not write (damaged, or of another shape) is skipped, not thrown on.
    if (typeof body !== "object" || body === null) continue;
    const { n, rows } = body as { n: unknown; rows: unknown };
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || !Array.isArray(rows)) continue;
    for (const row of rows) {
      if (!Array.isArray(row)) continue;
      const labels = row.slice(0, n).map(String);
      // No prototype: a counter may be named `constructor` or `__proto__`.
      const fields: Record<string, number> = Object.create(null);
      for (let i = n; i + 1 < row.length; i += 2) {
        const value = row[i + 1];
        if (typeof value === "number") fields[String(row[i])] = value;
      }
      visit(scope, labels, fields);
    }
  }
}

/**
 * A new fragment for a row, in the scope's open part, or in a new part when that is full.
 * @param labels The row's labels (clipped), owned by the fragment from now on.
 */
function place(scope: Scope, labels: string[]): Fragment {
  // The labels as JSON (`["k1","gemini","t1"]`) and the comma before the row.
  const bytes = utf8Bytes(JSON.stringify(labels)) + 1;
  let part = scope.parts.at(-1);
  if (!part || part.bytes + bytes > PART_BYTES) {
    part = {
      index: scope.parts.length,
      labelCount: labels.length,
      fragments: [],
      bytes: PART_OVERHEAD,
      dirty: true,
    };
    scope.parts.push(part);
  }
  const fragment = new Fragment(scope, labels, part);
  part.fragments.push(fragment);
  part.bytes += bytes;
  part.dirty = true;
  return fragment;
}

/** The JSON around a part's rows: `{"n":9,"rows":[]}`. */
const PART_OVERHEAD = 32;

/** A part as stored: `{"n": labels per row, "rows": [[...labels, field, value, ...], ...]}`. */
function encodePart(part: Part): Uint8Array {
  const rows = part.fragments.map((fragment) => fragment.cells);
  return encoder.encode(JSON.stringify({ n: part.labelCount, rows }));
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of well-formed text (JSON as `JSON.stringify` writes it: no lone surrogate). */
function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair is four bytes: two per half.
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xe000 ? 2 : 3;
  }
  return n;
}

/** The UTF-8 bytes of a string written as JSON, quotes and escapes included. */
function jsonBytes(text: string): number {
  let n = 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters, quotes and backslashes are escaped (at most six bytes); lone
    // surrogates are escaped too, a pair takes four bytes, as six counted here.
    n += c < 0x20 || c === 0x22 || c === 0x5c
      ? 6
      : c < 0x80
      ? 1
      : c < 0x800
      ? 2
      : c >= 0xd800 && c < 0xe000
      ? 6
      : 3;
  }
  return n;
}

function clip(text: string): string {
  return text.length > MAX_LABEL_CHARS ? text.slice(0, MAX_LABEL_CHARS) : text;
}
