/**
 * Small helpers of the fake: reading untyped JSON, ids, times and pages.
 * @module
 */

import type { Json } from "./state.ts";

/** The value as a JSON object, or undefined. */
export function asObj(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Json
    : undefined;
}

/** The value as an array, or an empty one. */
export function asArr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or undefined. */
export function asStr(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Parses JSON text; undefined when empty or invalid. */
export function tryParse(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A random id of `length` characters from `alphabet`. */
export function randomId(
  length: number,
  alphabet = "abcdefghijklmnopqrstuvwxyz0123456789",
): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** A random id shaped like Google's responseId. */
export function responseId(): string {
  return randomId(23, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

/** The current time as an ISO 8601 string. */
export function now(): string {
  return new Date().toISOString();
}

/** One page of `items` per the request's pageSize and pageToken; null for a bad token. */
export function pageOf<T>(
  items: T[],
  url: URL,
  defaultSize: number,
  maxSize: number,
): { page: T[]; next?: string } | null {
  const size = Math.min(
    Number(url.searchParams.get("pageSize") ?? defaultSize) || defaultSize,
    maxSize,
  );
  const token = url.searchParams.get("pageToken");
  let start = 0;
  if (token) {
    const decoded = /^offset:(\d+)$/.exec(safeAtob(token));
    if (!decoded) return null;
    start = Number(decoded[1]);
  }
  const page = items.slice(start, start + size);
  const result: { page: T[]; next?: string } = { page };
  if (start + size < items.length) result.next = btoa(`offset:${start + size}`);
  return result;
}

function safeAtob(value: string): string {
  try {
    return atob(value);
  } catch {
    return "";
  }
}

/** Joins byte arrays into one. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** A model id without its `models/` prefix. */
export function stripModelPrefix(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}
