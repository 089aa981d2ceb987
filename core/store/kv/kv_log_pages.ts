/**
 * Request logs on Deno KV as packed pages: one KV value (`["logp", maxId]`) holds up to about
 * 60 KB of records, instead of one entry per record, so a batch of 500 records costs a handful of
 * sets. A page holds records started within {@linkcode PAGE_SPAN_MS} of each other and is keyed
 * by its newest id; reading newest first merges pages in that key order, which is exact because
 * no page holds an id above its key. Entries of the previous layout (`["logs", id]`, one record
 * each) are read as pages of one, so a store written by an older version stays readable.
 * @module
 */
import { idAt, type LogFilter, type LogPage, type LogRecord, matchesLog } from "../mod.ts";
import { commitInBatches, keySize, type Mutation, nextTask } from "./kv_batch.ts";
import type { KvDatabase, KvEntry, KvListSelector } from "./kv_database.ts";

/** Records started further apart than this go to different pages (bounds a read's look-ahead). */
export const PAGE_SPAN_MS = 2_000;
/** Most serialized bytes a page holds (Deno KV refuses values over 65,536 bytes). */
export const PAGE_BYTES = 60_000;
/** Prefix of packed pages. */
export const PAGE_PREFIX = "logp";
/** Prefix of one-record entries written by earlier versions. */
export const LEGACY_PREFIX = "logs";
/** Most records scanned for one filtered page before returning a cursor. */
const MAX_SCAN = 20_000;

/** A packed page as stored. */
export interface StoredPage {
  /** Records in it. */
  n: number;
  /** Its oldest id. */
  min: string;
  /** The records, oldest first, as a JSON array. */
  json: string;
}

/**
 * The start time a request id encodes (its first nine base-36 characters), or NaN.
 * @param id A request id.
 */
export function idTime(id: string): number {
  return /^[0-9a-z]{9}/.test(id) ? parseInt(id.slice(0, 9), 36) : NaN;
}

/**
 * Packs records into pages: sorted by id, cut at {@linkcode PAGE_BYTES} and whenever a record
 * started more than {@linkcode PAGE_SPAN_MS} after the page's first. The same records always
 * give the same pages, so a retried write overwrites what an earlier try left.
 *
 * A page's size is counted as V8 will store its JSON: one byte a character, or two for every
 * character of the page once any record in it holds a character past U+00FF (the joined string
 * is then two-byte throughout), so one wide character in a model name or a body cannot push a page
 * of narrow records past Deno KV's limit.
 * @param records Records to store.
 * @returns Pages with their keys' ids and their serialized bytes, as V8 stores them.
 */
export function packPages(
  records: LogRecord[],
): PackedPage[] {
  return [...pagesOf(records)];
}

/** A page as {@linkcode packPages} makes it. */
export interface PackedPage {
  /** The id of its newest record: its key. */
  maxId: string;
  /** What is stored. */
  page: StoredPage;
  /** Its serialized bytes, as V8 stores them. */
  bytes: number;
}

/** The pages of {@linkcode packPages}, each made when it is reached. */
function* pagesOf(records: LogRecord[]): Generator<PackedPage> {
  const sorted = records.slice().sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  let parts: string[] = [];
  // Characters of the page's JSON so far (brackets and commas included), and whether any is wide.
  let chars = 1;
  let wide = false;
  let first = "";
  let firstTime = NaN;
  let last = "";
  for (const record of sorted) {
    const { json, wide: recordWide } = fitted(record);
    const start = idTime(record.id);
    const grown = storedSize(chars + json.length + 2, wide || recordWide);
    if (parts.length > 0 && (grown > PAGE_BYTES || !(start - firstTime <= PAGE_SPAN_MS))) {
      yield closed(parts, { first, last, bytes: storedSize(chars + 1, wide) });
      parts = [];
      chars = 1;
      wide = false;
    }
    if (parts.length === 0) {
      first = record.id;
      firstTime = start;
    }
    parts.push(json);
    chars += json.length + (parts.length > 1 ? 1 : 0);
    wide ||= recordWide;
    last = record.id;
  }
  if (parts.length > 0) yield closed(parts, { first, last, bytes: storedSize(chars + 1, wide) });
}

/** A page of records' JSON texts, oldest first. */
function closed(
  parts: string[],
  at: { first: string; last: string; bytes: number },
): PackedPage {
  return {
    maxId: at.last,
    page: { n: parts.length, min: at.first, json: `[${parts.join(",")}]` },
    bytes: at.bytes,
  };
}

/** The clipped bodies of a record that would not fit a page alone end with this. */
export const CUT_TO_FIT = "... [cut to fit a log page]";

/**
 * A record's JSON, and whether V8 stores it at two bytes a character. A record that would not fit
 * a page alone (kept bodies whose characters escape to six each in JSON, or hold a wide character
 * that doubles the whole record) has its bodies clipped shorter until it fits: Deno KV would
 * refuse the page, and the batch with it.
 * @param record The record.
 */
function fitted(record: LogRecord): { json: string; wide: boolean } {
  let json = JSON.stringify(record);
  let wide = WIDE.test(json);
  // A page of this record alone: its JSON in brackets.
  const longest = Math.max(record.requestBody?.length ?? 0, record.responseBody?.length ?? 0);
  for (let keep = longest; storedSize(json.length + 2, wide) > PAGE_BYTES && keep > 0;) {
    keep = keep >= 64 ? Math.floor(keep / 2) : 0;
    json = JSON.stringify({
      ...record,
      requestBody: clipBody(record.requestBody, keep),
      responseBody: clipBody(record.responseBody, keep),
    });
    wide = WIDE.test(json);
  }
  return { json, wide };
}

/** Bytes V8 stores a string of `chars` characters in: two a character once any is wide. */
function storedSize(chars: number, twoByte: boolean): number {
  return twoByte ? chars * 2 : chars;
}

/** A character V8 cannot store in one byte. */
const WIDE = /[\u0100-\uffff]/;
function clipBody(body: string | undefined, keep: number): string | undefined {
  return body === undefined || body.length <= keep ? body : body.slice(0, keep) + CUT_TO_FIT;
}

/**
 * Writes records as pages; a retry of the same records rewrites the same keys.
 * @param kv The database.
 * @param batch Records and how long they are kept.
 */
export async function writePages(
  kv: KvDatabase,
  batch: { records: LogRecord[]; retentionMs: number },
): Promise<void> {
  const mutations: Mutation[] = [];
  for (const { maxId, page, bytes } of pagesOf(batch.records)) {
    // A batch is packed a page at a time, requests served in between: hundreds of records in
    // one go would hold every request up for a millisecond or more.
    if (mutations.length > 0) await nextTask();
    const key = [PAGE_PREFIX, maxId];
    mutations.push({
      bytes: bytes + 64,
      keyBytes: keySize(key),
      apply: (op) => void op.set(key, page, { expireIn: batch.retentionMs }),
    });
  }
  // A few pages per commit: a commit's values are serialized in one go too.
  await commitInBatches(kv, mutations, { maxBytes: PAGES_PER_COMMIT * (PAGE_BYTES + 1024) });
}

/** Pages per commit, at most. */
const PAGES_PER_COMMIT = 2;

/** A page as read: its key's id and its records, oldest first. */
interface ReadPage {
  maxId: string;
  records: LogRecord[];
}

/** Pages and legacy entries of a range of ids, newest first, merged in key order. */
async function* pagesDescending(
  kv: KvDatabase,
  range: { from: string; below: string },
): AsyncGenerator<ReadPage> {
  const pageRange: KvListSelector = {
    start: [PAGE_PREFIX, range.from],
    end: [PAGE_PREFIX, range.below],
  };
  const legacyRange: KvListSelector = {
    start: [LEGACY_PREFIX, range.from],
    end: [LEGACY_PREFIX, range.below],
  };
  const pages = kv.list<StoredPage>(pageRange, { reverse: true, batchSize: 100 })
    [Symbol.asyncIterator]();
  const legacy = kv.list<LogRecord>(legacyRange, { reverse: true, batchSize: 500 })
    [Symbol.asyncIterator]();
  let p = await pages.next();
  let l = await legacy.next();
  while (!p.done || !l.done) {
    const pageId = p.done ? null : String(p.value.key[1]);
    const legacyId = l.done ? null : String(l.value.key[1]);
    if (pageId !== null && (legacyId === null || pageId > legacyId)) {
      yield { maxId: pageId, records: JSON.parse((p.value as KvEntry<StoredPage>).value.json) };
      p = await pages.next();
    } else {
      yield { maxId: legacyId!, records: [(l.value as KvEntry<LogRecord>).value] };
      l = await legacy.next();
    }
  }
}

/**
 * The key bound above which no page can hold an id below `below`.
 * @param below An exclusive upper bound on ids, or null for none.
 */
function pageBound(below: string | null): string {
  if (below === null) return "\uffff";
  const t = idTime(below);
  return Number.isFinite(t) ? idAt(t + PAGE_SPAN_MS + 1) : "\uffff";
}

/**
 * One page of records matching a filter, newest first, with a cursor when more may follow.
 * @param kv The database.
 * @param page Filter, size and the cursor of the previous page.
 */
export async function listPagedLogs(
  kv: KvDatabase,
  page: { filter: LogFilter; limit: number; cursor: string | null | undefined },
): Promise<LogPage> {
  const { filter, limit } = page;
  const below = page.cursor ?? (filter.to !== undefined ? idAt(filter.to) : null);
  const from = filter.from !== undefined ? idAt(filter.from) : "";
  const out: LogRecord[] = [];
  // Records read but not yet passed, newest last; passed once no unread page can hold a newer.
  let held: LogRecord[] = [];
  let passed: string | null = null;
  let scanned = 0;
  const pass = (bound: string | null): LogPage | null => {
    while (held.length > 0 && (bound === null || held.at(-1)!.id > bound)) {
      const record = held.pop()!;
      passed = record.id;
      if (!matchesLog(record, filter)) continue;
      out.push(record);
      if (out.length === limit) return { logs: out, cursor: record.id };
    }
    return null;
  };
  for await (const read of pagesDescending(kv, { from, below: pageBound(below) })) {
    const done = pass(read.maxId);
    if (done) return done;
    if (scanned >= MAX_SCAN && passed !== null) return { logs: out, cursor: passed };
    for (const record of read.records) {
      if ((below === null || record.id < below) && record.id >= from) held.push(record);
    }
    scanned += read.records.length;
    held.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }
  const done = pass(null);
  held = [];
  return done ?? { logs: out, cursor: null };
}

/**
 * One record by id, from its page or a legacy entry.
 * @param kv The database.
 * @param id Request id.
 */
export async function getPagedLog(kv: KvDatabase, id: string): Promise<LogRecord | null> {
  const legacy = await kv.get<LogRecord>([LEGACY_PREFIX, id]);
  if (legacy.value) return legacy.value;
  const selector = { start: [PAGE_PREFIX, id], end: [PAGE_PREFIX, pageBound(id + "\u0000")] };
  for await (const entry of kv.list<StoredPage>(selector, { batchSize: 100 })) {
    if (entry.value.min > id) continue;
    const found = (JSON.parse(entry.value.json) as LogRecord[]).find((r) => r.id === id);
    if (found) return found;
  }
  return null;
}

/**
 * How many log records a KV database holds, in pages and legacy entries.
 * @param kv The database.
 */
export async function countKvLogs(kv: KvDatabase): Promise<number> {
  let n = 0;
  for await (const entry of kv.list<StoredPage>({ prefix: [PAGE_PREFIX] }, { batchSize: 500 })) {
    n += entry.value.n;
  }
  for await (const _ of kv.list({ prefix: [LEGACY_PREFIX] }, { batchSize: 1000 })) n++;
  return n;
}
