/**
 * Removes from an OpenAI-compatible SSE stream the usage the client did not ask for, reporting it
 * to the proxy instead: the usage-only chunk (`choices: []` with `usage`) is dropped, and `usage`
 * members of other chunks (`null` on OpenAI's intermediate chunks, the totals on Gemini's last
 * content chunk) are cut out of their JSON, every other byte kept.
 *
 * The stream is read event by event (events end at a blank line). Each event is passed on as soon
 * as its last byte has arrived; events without a `"usage"` key pass as the very bytes received.
 * The common event, one `data:` line whose JSON object has one top-level `"usage":null`, is cut in
 * its bytes without decoding it (less than half the cost per chunk); any other event with usage is
 * read as JSON.
 * An event that grows past a bound before it ends is passed through unread, so memory stays
 * bounded whatever upstream sends.
 * @module
 */
import { type JsonMember, jsonMembers, jsonMembersInBytes, withoutMember } from "../utils/mod.ts";

/** Longest event held to be read; longer ones pass through as they come. */
const MAX_EVENT_BYTES = 1024 * 1024;
const MARKER = new TextEncoder().encode('"usage"');
const LF = 10;
const EMPTY = new Uint8Array(0);
const CR = 13;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A transform that removes usage from an OpenAI-compatible SSE stream.
 * @param onUsage Receives each non-null `usage` object removed, in order.
 * @returns The TransformStream to pipe the upstream body through.
 * @example
 * ```ts
 * let usage: unknown = null;
 * const body = upstream.body!.pipeThrough(stripUsage((u) => usage = u));
 * ```
 */
export function stripUsage(
  onUsage: (usage: unknown) => void,
): TransformStream<Uint8Array, Uint8Array> {
  const stripper = new Stripper(onUsage);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const out = stripper.push(chunk);
      if (out !== null) controller.enqueue(out);
    },
    flush(controller) {
      const out = stripper.end();
      if (out !== null) controller.enqueue(out);
    },
  });
}

/** Strips usage from the chunks of one stream, for a relay that moves them itself. */
export interface UsageStripper {
  /** The bytes to pass on for a chunk received (null: nothing yet, an event is under way). */
  push(chunk: Uint8Array): Uint8Array | null;
  /** The bytes left when the stream ends (an unfinished last event, as it came), or null. */
  end(): Uint8Array | null;
}

/**
 * A usage stripper without a stream of its own (see {@linkcode stripUsage}).
 * @param onUsage Receives each non-null `usage` object removed, in order.
 * @returns The stripper.
 */
export function createUsageStripper(onUsage: (usage: unknown) => void): UsageStripper {
  return new Stripper(onUsage);
}

/** The state of one stream being stripped: the event under way and the line it is at. */
class Stripper implements UsageStripper {
  #onUsage: (usage: unknown) => void;
  /** Bytes of the event under way (received, not yet passed on). */
  #held: Uint8Array = EMPTY;
  /** The event under way passed its bound: its bytes go on unread until it ends. */
  #passing = false;
  #atLineStart = true;
  #afterCR = false;

  constructor(onUsage: (usage: unknown) => void) {
    this.#onUsage = onUsage;
  }

  push(chunk: Uint8Array): Uint8Array | null {
    const ends = this.#eventEnds(chunk);
    // The common chunk: exactly one whole event, nothing held before it.
    if (
      !this.#passing && this.#held.length === 0 && ends.length === 1 && ends[0] === chunk.length
    ) {
      const out = rewriteEvents(chunk, ends, this.#onUsage);
      return out.length > 0 ? out : null;
    }
    // One output per chunk: views of one buffer are never handed on twice.
    const out: Uint8Array[] = [];
    let from = 0;
    if (this.#passing) {
      const end = ends.shift();
      out.push(chunk.subarray(0, end ?? chunk.length));
      if (end === undefined) return chunk;
      this.#passing = false;
      from = end;
    }
    const last = ends.at(-1);
    if (last !== undefined) {
      const held = this.#held;
      const complete = join(held, chunk.subarray(from, last));
      out.push(rewriteEvents(complete, ends.map((e) => e - from + held.length), this.#onUsage));
      this.#held = EMPTY;
      from = last;
    }
    if (from < chunk.length) this.#held = join(this.#held, chunk.slice(from));
    if (this.#held.length > MAX_EVENT_BYTES) {
      out.push(this.#held);
      this.#held = EMPTY;
      this.#passing = true;
    }
    const bytes = join(...out);
    return bytes.length > 0 ? bytes : null;
  }

  end(): Uint8Array | null {
    // An unfinished last event (a body cut short, a bare error object) goes on as it came.
    return this.#held.length > 0 ? this.#held : null;
  }

  /** Offsets just past each event end in `chunk`, tracking line state across chunks. */
  #eventEnds(chunk: Uint8Array): number[] {
    const ends: number[] = [];
    // Jump from line ending to line ending (the runtime's indexOf), not byte by byte.
    let nextLF = chunk.indexOf(LF);
    let nextCR = chunk.indexOf(CR);
    let i = 0;
    for (;;) {
      const at = nextLF < 0 ? nextCR : nextCR < 0 ? nextLF : Math.min(nextLF, nextCR);
      if (at < 0 ? i < chunk.length : at > i) this.#atLineStart = this.#afterCR = false;
      if (at < 0) return ends;
      const b = chunk[at];
      if (b === LF && this.#afterCR) {
        // The LF of a CRLF: part of the line ending the CR began.
        this.#afterCR = false;
        if (ends.at(-1) === at) ends[ends.length - 1] = at + 1;
      } else {
        this.#afterCR = b === CR;
        if (this.#atLineStart) ends.push(at + 1);
        this.#atLineStart = true;
      }
      i = at + 1;
      if (b === LF) nextLF = chunk.indexOf(LF, i);
      else nextCR = chunk.indexOf(CR, i);
    }
  }
}

/** Complete events (ending at `ends`) with usage removed; the same bytes when none has any. */
function rewriteEvents(
  bytes: Uint8Array,
  ends: number[],
  onUsage: (usage: unknown) => void,
): Uint8Array {
  if (markerAt(bytes) < 0) return bytes;
  if (ends.length === 1) return rewriteEvent1(bytes, onUsage);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const end of ends) {
    const event = bytes.subarray(start, end);
    start = end;
    if (markerAt(event) < 0) {
      parts.push(event);
      continue;
    }
    const rewritten = rewriteEvent1(event, onUsage);
    if (rewritten.length > 0) parts.push(rewritten);
  }
  return parts.length === 1 ? parts[0]! : join(...parts);
}

/** One complete event holding the marker, with usage removed (empty when it is dropped). */
function rewriteEvent1(event: Uint8Array, onUsage: (usage: unknown) => void): Uint8Array {
  const fast = withoutNullUsage(event);
  if (fast !== undefined) return fast;
  const text = rewriteEvent(decoder.decode(event), onUsage);
  return text === null ? event : encoder.encode(text);
}

const DATA = encoder.encode("data:");
const SPACE = 32;
const NULL = encoder.encode("null");

/**
 * The common event cut without decoding it: one `data:` line holding a JSON object whose one
 * top-level `usage` member is `null` (what every chunk but the last carries once the proxy asks for
 * usage), then its line ending. The member goes as {@linkcode withoutMember} would take it, every
 * other byte kept. Undefined for any other event (several lines, a key written with escapes, two
 * `usage` members, a usage with counts, JSON cut short), which the general way reads.
 */
function withoutNullUsage(event: Uint8Array): Uint8Array | undefined {
  let end = 0;
  while (end < event.length && event[end] !== LF && event[end] !== CR) end++;
  for (let i = end; i < event.length; i++) if (event[i] !== LF && event[i] !== CR) return undefined;
  if (!bytesAt(event, 0, DATA)) return undefined;
  const from = event[DATA.length] === SPACE ? DATA.length + 1 : DATA.length;
  const members = jsonMembersInBytes(event, from, end);
  if (members === null || members.some((m) => m.escaped)) return undefined;
  let at = -1;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (m.keyEnd - m.start !== MARKER.length || !bytesAt(event, m.start, MARKER)) continue;
    if (at >= 0) return undefined;
    at = i;
  }
  if (at < 0) return event;
  const usage = members[at]!;
  if (usage.valueEnd - usage.valueStart !== NULL.length) return undefined;
  if (!bytesAt(event, usage.valueStart, NULL)) return undefined;
  const next = members[at + 1];
  const previous = members[at - 1];
  const [cutFrom, cutTo] = next
    ? [usage.start, next.start]
    : previous
    ? [previous.valueEnd, usage.valueEnd]
    : [usage.start, usage.valueEnd];
  return join(event.subarray(0, cutFrom), event.subarray(cutTo));
}

/** Whether `bytes` holds `pattern` at `at`. */
function bytesAt(bytes: Uint8Array, at: number, pattern: Uint8Array): boolean {
  if (at + pattern.length > bytes.length) return false;
  for (let j = 0; j < pattern.length; j++) if (bytes[at + j] !== pattern[j]) return false;
  return true;
}

/**
 * One event with usage removed: "" when it is dropped, null when it stays as it was.
 */
function rewriteEvent(event: string, onUsage: (usage: unknown) => void): string | null {
  const lines = event.split(/(\r\n|\r|\n)/);
  const data = lines.flatMap((line, i) => i % 2 === 0 && line.startsWith("data:") ? [i] : []);
  if (data.length === 0) return null;
  const payload = data.map((i) => fieldValue(lines[i]!)).join("\n");
  const stripped = withoutUsage(payload, onUsage);
  if (stripped === null || stripped === "") return stripped;
  if (data.length === 1) {
    const i = data[0]!;
    const line = lines[i]!;
    lines[i] = line.slice(0, line.length - fieldValue(line).length) + stripped;
    return lines.join("");
  }
  // Several data lines (rare): the payload goes on as data lines in place of the first.
  const ending = lines[1] ?? "\n";
  lines[data[0]!] = stripped.split("\n").map((l) => `data: ${l}`).join(ending);
  for (const i of data.slice(1)) lines[i] = lines[i + 1] = "";
  return lines.join("");
}

/**
 * A chunk's JSON without its `usage` members (reported when not null): "" for a usage-only chunk
 * (no choices, or none), null when the payload is not a JSON object with usage.
 */
function withoutUsage(payload: string, onUsage: (usage: unknown) => void): string | null {
  let members: JsonMember[] | null;
  try {
    members = jsonMembers(payload);
  } catch {
    return null;
  }
  const usages = members?.filter((m) => m.key === "usage") ?? [];
  if (usages.length === 0) return null;
  const value = (m: JsonMember) => payload.slice(m.valueStart, m.valueEnd);
  let counted = false;
  for (const member of usages) {
    if (value(member) === "null") continue;
    try {
      onUsage(JSON.parse(value(member)));
      counted = true;
    } catch {
      return null;
    }
  }
  const choices = members!.find((m) => m.key === "choices");
  if (counted && (!choices || /^\[\s*\]$/.test(value(choices)))) return "";
  return withoutMember(payload, "usage", members);
}

/** The value of an SSE field line: after the colon and one optional space. */
function fieldValue(line: string): string {
  const rest = line.slice(line.indexOf(":") + 1);
  return rest.startsWith(" ") ? rest.slice(1) : rest;
}

function join(...parts: Uint8Array[]): Uint8Array {
  const nonEmpty = parts.filter((p) => p.length > 0);
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const out = new Uint8Array(nonEmpty.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of nonEmpty) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Where `"usage"` starts in `bytes`, or -1 (searching for its rarer `u`, then checking). */
function markerAt(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(MARKER[1]!); i >= 0; i = bytes.indexOf(MARKER[1]!, i + 1)) {
    if (i === 0 || i + MARKER.length - 1 > bytes.length) continue;
    let j = 0;
    while (j < MARKER.length && bytes[i - 1 + j] === MARKER[j]) j++;
    if (j === MARKER.length) return i - 1;
  }
  return -1;
}
