/**
 * Counts the reads a Deno KV handle serves: `get`, `getMany`, `list` (and the entries listings
 * return) and `watch` calls; and its writes: atomic commits and the mutations in them. Used by the
 * idle-reads test and by the benchmark's counting entry (`bench/proxy_counted.ts`); every other
 * method passes through untouched.
 * @module
 */

/** Reads served by a counted handle. */
export interface ReadCounts {
  /** `get` calls. */
  get: number;
  /** `getMany` calls. */
  getMany: number;
  /** `list` calls. */
  list: number;
  /** Entries the listings returned. */
  listed: number;
  /** `watch` calls (long-lived streams). */
  watch: number;
  /** Atomic operations committed (writes; not reads). */
  commits: number;
  /** Mutations in them: `set`, `sum`, `delete`, `min`, `max`, `enqueue` (writes; not reads). */
  mutations: number;
}

/** Fresh, zeroed counts. */
export function zeroReads(): ReadCounts {
  return { get: 0, getMany: 0, list: 0, listed: 0, watch: 0, commits: 0, mutations: 0 };
}

/**
 * Round trips counted: every call that asks the database (entries of a listing are not extra
 * round trips).
 * @param counts The counts.
 */
export function roundTrips(counts: ReadCounts): number {
  return counts.get + counts.getMany + counts.list + counts.watch;
}

/**
 * Wraps a KV handle so that each read is counted.
 * @param kv The handle.
 * @param counts Where counts go.
 * @returns The counting handle.
 */
export function countReads(kv: Deno.Kv, counts: ReadCounts): Deno.Kv {
  return new Proxy(kv, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      if (name === "get" || name === "getMany" || name === "watch") {
        return (...args: unknown[]) => {
          counts[name]++;
          return value.apply(target, args);
        };
      }
      if (name === "set" || name === "delete") {
        return (...args: unknown[]) => {
          counts.commits++;
          counts.mutations++;
          return value.apply(target, args);
        };
      }
      if (name === "atomic") {
        return () => countedAtomic(value.apply(target, []) as Deno.AtomicOperation, counts);
      }
      if (name === "list") {
        return (...args: unknown[]) => {
          counts.list++;
          return countedList(value.apply(target, args), counts);
        };
      }
      return value.bind(target);
    },
  });
}

const MUTATIONS = new Set(["set", "sum", "delete", "min", "max", "enqueue", "mutate"]);

/** An atomic operation that counts its mutations, and itself when committed. */
function countedAtomic(op: Deno.AtomicOperation, counts: ReadCounts): Deno.AtomicOperation {
  const counted: Deno.AtomicOperation = new Proxy(op, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (name === "commit") {
          counts.commits++;
          return value.apply(target, args);
        }
        // `mutate` takes several mutations at once.
        if (MUTATIONS.has(String(name))) counts.mutations += name === "mutate" ? args.length : 1;
        const result = value.apply(target, args);
        return result === target ? counted : result;
      };
    },
  });
  return counted;
}

async function* countedList<T>(
  iterator: AsyncIterable<T>,
  counts: ReadCounts,
): AsyncGenerator<T> {
  for await (const entry of iterator) {
    counts.listed++;
    yield entry;
  }
}
