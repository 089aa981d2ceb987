/**
 * Finding and editing the members of a JSON object in its text, so that one member can be added,
 * changed or removed while every other byte stays as the sender wrote it (numbers beyond 2^53,
 * key order, spacing and unknown fields included).
 * @module
 */

/** One member of a JSON object, as offsets into the object's text. */
export interface JsonMember {
  /** The decoded key. */
  key: string;
  /** Offset of the key's opening quote. */
  start: number;
  /** Offset of the value's first character. */
  valueStart: number;
  /** Offset just past the value's last character. */
  valueEnd: number;
}

/**
 * The members of the JSON object in `text` (top level only), in order, duplicates included.
 * @param text Valid JSON text (already accepted by `JSON.parse`) whose value is an object.
 * @param from Offset to start at (the object's `{` or whitespace before it). Default 0.
 * @returns The members, or null when the value at `from` is not an object.
 */
export function jsonMembers(text: string, from = 0): JsonMember[] | null {
  let i = skipSpace(text, from);
  if (text[i] !== "{") return null;
  const members: JsonMember[] = [];
  i = skipSpace(text, i + 1);
  while (i < text.length && text[i] !== "}") {
    const start = i;
    const keyEnd = stringEnd(text, i);
    const raw = text.slice(start + 1, keyEnd - 1);
    const key = raw.includes("\\") ? JSON.parse(`"${raw}"`) as string : raw;
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const valueEnd = valueEndAt(text, valueStart);
    members.push({ key, start, valueStart, valueEnd });
    i = skipSpace(text, valueEnd);
    if (text[i] === ",") i = skipSpace(text, i + 1);
  }
  return members;
}

/** One member of a JSON object in bytes, as offsets (see {@linkcode jsonMembersInBytes}). */
export interface ByteMember {
  /** Offset of the key's opening quote. */
  start: number;
  /** Offset just past the key's closing quote. */
  keyEnd: number;
  /** Whether the key holds an escape (its bytes are then not its name). */
  escaped: boolean;
  /** Offset of the value's first byte. */
  valueStart: number;
  /** Offset just past the value's last byte. */
  valueEnd: number;
}

/**
 * {@linkcode jsonMembers} for UTF-8 bytes that must not be decoded (a stream's chunks): the
 * members of the object starting at `from`, top level only, within one line ending at `end`
 * (whitespace is spaces and tabs). No byte of a multi-byte character is a quote, brace, bracket or
 * backslash, so the offsets are those the text would give, counted in bytes. Stricter than the
 * text version: null unless the object is well formed as far as its members go and closes before
 * `end`.
 * @param bytes The bytes.
 * @param from Offset of the object (or spaces before it).
 * @param end Offset where the line ends.
 * @returns The members, or null.
 */
export function jsonMembersInBytes(
  bytes: Uint8Array,
  from: number,
  end: number,
): ByteMember[] | null {
  let i = skipByteSpace(bytes, from, end);
  if (bytes[i] !== OPEN_BRACE) return null;
  i = skipByteSpace(bytes, i + 1, end);
  const members: ByteMember[] = [];
  while (i < end && bytes[i] !== CLOSE_BRACE) {
    const start = i;
    const keyEnd = byteStringEnd(bytes, i, end);
    if (keyEnd < 0) return null;
    let escaped = false;
    for (let k = start + 1; k < keyEnd - 1 && !escaped; k++) escaped = bytes[k] === BACKSLASH;
    i = skipByteSpace(bytes, keyEnd, end);
    if (bytes[i] !== COLON) return null;
    const valueStart = skipByteSpace(bytes, i + 1, end);
    const valueEnd = byteValueEnd(bytes, valueStart, end);
    if (valueEnd < 0) return null;
    members.push({ start, keyEnd, escaped, valueStart, valueEnd });
    i = skipByteSpace(bytes, valueEnd, end);
    if (bytes[i] === COMMA) i = skipByteSpace(bytes, i + 1, end);
    else if (bytes[i] !== CLOSE_BRACE) return null;
  }
  return i < end ? members : null;
}

/**
 * The text with every member named `key` removed from the top-level object, commas mended.
 * @param text Valid JSON text of an object.
 * @param key The member to remove.
 * @param members The members of `text`, when already listed.
 * @returns The new text (the same text when there was no such member).
 */
export function withoutMember(text: string, key: string, members = jsonMembers(text)): string {
  for (;;) {
    const list = members ?? [];
    const index = list.findIndex((m) => m.key === key);
    if (index < 0) return text;
    const member = list[index]!;
    const next = list[index + 1];
    const previous = list[index - 1];
    if (next) text = text.slice(0, member.start) + text.slice(next.start);
    else if (previous) text = text.slice(0, previous.valueEnd) + text.slice(member.valueEnd);
    else text = text.slice(0, member.start) + text.slice(member.valueEnd);
    // Duplicates are rare: the text is listed again only when there is another one.
    if (list.findIndex((m, i) => i > index && m.key === key) < 0) return text;
    members = jsonMembers(text);
  }
}

/**
 * The text with a member added as the object's first member.
 * @param text Valid JSON text of an object.
 * @param member The new member's key, its value as JSON text, and the offset of the object in
 *   `text` (default 0).
 */
export function withFirstMember(
  text: string,
  member: { key: string; valueJson: string; from?: number },
): string {
  const { key, valueJson, from = 0 } = member;
  const open = text.indexOf("{", from);
  const empty = text[skipSpace(text, open + 1)] === "}";
  const added = `${JSON.stringify(key)}:${valueJson}${empty ? "" : ","}`;
  return text.slice(0, open + 1) + added + text.slice(open + 1);
}

/**
 * The text with one member's value replaced.
 * @param text The JSON text.
 * @param member A member found by {@linkcode jsonMembers} in this text.
 * @param valueJson The new value, as JSON text.
 */
export function withValue(text: string, member: JsonMember, valueJson: string): string {
  return text.slice(0, member.valueStart) + valueJson + text.slice(member.valueEnd);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Offset just past the string whose opening quote is at `i`. */
function stringEnd(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i + 1;
  }
  return text.length;
}

/** Offset just past the value starting at `i`. */
function valueEndAt(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return stringEnd(text, i);
  if (first !== "{" && first !== "[") {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // , } ] and whitespace end a number or literal.
      if (c === 44 || c === 125 || c === 93 || c === 32 || c === 9 || c === 10 || c === 13) break;
    }
    return i;
  }
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) i = stringEnd(text, i) - 1;
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
  }
  return text.length;
}

const [SPACE, TAB, QUOTE, BACKSLASH, COMMA, COLON] = [32, 9, 34, 92, 44, 58];
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [123, 125, 91, 93];

function skipByteSpace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
  return i;
}

/** {@linkcode stringEnd} in bytes: -1 when the string does not close before `end`. */
function byteStringEnd(bytes: Uint8Array, i: number, end: number): number {
  if (bytes[i] !== QUOTE) return -1;
  for (i++; i < end; i++) {
    if (bytes[i] === BACKSLASH) i++;
    else if (bytes[i] === QUOTE) return i + 1;
  }
  return -1;
}

/** {@linkcode valueEndAt} in bytes: -1 when the value does not end before `end`. */
function byteValueEnd(bytes: Uint8Array, i: number, end: number): number {
  const first = bytes[i];
  if (first === QUOTE) return byteStringEnd(bytes, i, end);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    const start = i;
    while (
      i < end && bytes[i] !== COMMA && bytes[i] !== CLOSE_BRACE && bytes[i] !== CLOSE_BRACKET &&
      bytes[i] !== SPACE && bytes[i] !== TAB
    ) i++;
    return i > start && i < end ? i : -1;
  }
  let depth = 0;
  for (; i < end; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      i = byteStringEnd(bytes, i, end) - 1;
      if (i < 0) return -1;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}
