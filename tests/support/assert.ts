/**
 * Small assertion helpers (Deno's std is not reachable from this build environment).
 * @module
 */

/** Thrown by the assertions. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Asserts a truthy value. */
export function assert(value: unknown, message = "expected a truthy value"): asserts value {
  if (!value) throw new AssertionError(message);
}

/** Asserts deep equality (JSON-comparable values, Maps and Sets by content). */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}values differ\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

/** Asserts two values are not deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  if (deepEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected values to differ: ${show(actual)}`,
    );
  }
}

/** Asserts `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  if (!text.includes(part)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected ${show(text.slice(0, 500))} to include ${
        show(part)
      }`,
    );
  }
}

/** Asserts `text` does not contain `part`. */
export function assertNotIncludes(text: string, part: string, message?: string): void {
  if (text.includes(part)) {
    throw new AssertionError(`${message ? message + ": " : ""}found forbidden ${show(part)}`);
  }
}

/**
 * Asserts that `fn` rejects (or throws), optionally with a message containing `includes`. `fn`
 * may answer a value or a promise, as functions that finish at once when they can do.
 */
export async function assertRejects(
  fn: () => unknown,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (includes && !e.message.includes(includes)) {
      throw new AssertionError(`error ${show(e.message)} does not include ${show(includes)}`);
    }
    return e;
  }
  throw new AssertionError("expected a rejection");
}

/** Asserts that `fn` throws synchronously, optionally with a message containing `includes`. */
export function assertThrows(fn: () => unknown, includes?: string): Error {
  try {
    fn();
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (includes && !e.message.includes(includes)) {
      throw new AssertionError(`error ${show(e.message)} does not include ${show(includes)}`);
    }
    return e;
  }
  throw new AssertionError("expected a throw");
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => v instanceof Set || v instanceof Map ? [...v] : v);
  } catch {
    return String(value);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Map || a instanceof Set) {
    return (b instanceof Map || b instanceof Set) && deepEqual([...a], [...b]);
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) =>
    (a as Record<string, unknown>)[k] !== undefined
  );
  const kb = Object.keys(b as object).filter((k) =>
    (b as Record<string, unknown>)[k] !== undefined
  );
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}
