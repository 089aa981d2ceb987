/**
 * What a server's resident memory under load is made of: each server runs alone under wrk at 256
 * connections on the native route (and, apart, with 1,000 streams held open), and during the load
 * its RSS is split from `/proc/<pid>/status` (file-backed pages: the runtime's binary and the
 * libraries it maps; anonymous memory) and, over the inspector, the JavaScript heap the runtime has
 * committed (by space, with what the objects in it take), and V8's external memory (buffers held
 * for JavaScript). What anonymous memory is left is the runtime's native allocations: the HTTP
 * server's and fetch's connections and buffers, the store's engine, allocator caches.
 * @module
 */
import { COST_LABELS, type CostTarget, isBare, MAIN_TARGETS, startCostTarget } from "./_costs.ts";
import { type InspectorSession, openInspector } from "./_inspector.ts";
import { runStreamClient } from "./_measure.ts";
import { freePort, type Server } from "./_process.ts";
import { startUpstream } from "./_servers.ts";
import { buildRequest } from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** Connections of the load: the RSS target's. */
export const LOAD_CONNECTIONS = 256;
/** Streams held open at once, each 20 events 500 ms apart: the held-streams target's. */
export const HELD_STREAMS = 1000;
const HELD_CHUNKS = 20;
const HELD_CHUNK_DELAY_MS = 500;
const WARM_SECONDS = 2;
const LOAD_SECONDS = 8;
/** When, into the measured load, the memory is read. */
const READ_AFTER_MS = 6_000;

/** One server's memory, in bytes, read under load. */
export interface LoadMemory {
  target: CostTarget;
  /** Req/s of the load; with streams held, the streams that completed. */
  rps: number;
  rss: number;
  /** Pages mapped from files (the runtime's binary, libraries). */
  file: number;
  /** Anonymous pages: heaps and buffers. */
  anon: number;
  /** The JavaScript heap's committed size. */
  heapTotal: number;
  /** What its objects take, live or not yet collected. */
  heapUsed: number;
  /** Of the committed heap: the young generation. */
  newSpace: number;
  /** Of the committed heap: the old generation (objects that outlived two young collections). */
  oldSpace: number;
  /** What the old generation's objects take. */
  oldUsed: number;
  /** V8's external memory. */
  external: number;
}

const HEAP_EXPRESSION = `(async () => {
  const { getHeapSpaceStatistics } = await import("node:v8");
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const m = Deno.memoryUsage();
  return {
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    newSpace: spaces.new_space?.space_size ?? 0,
    oldSpace: spaces.old_space?.space_size ?? 0,
    oldUsed: spaces.old_space?.space_used_size ?? 0,
  };
})()`;

/** Kibibyte figures of `/proc/<pid>/status`, in bytes. */
function statusBytes(pid: number): { rss: number; file: number; anon: number } {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) * 1024;
  return {
    rss: field("VmRSS"),
    file: field("RssFile") + field("RssShmem"),
    anon: field("RssAnon"),
  };
}

/** Reads a server's memory: `/proc` first, then the heap over the inspector. */
async function readLoadMemory(
  server: Server,
  session: InspectorSession,
): Promise<Omit<LoadMemory, "target" | "rps">> {
  const status = statusBytes(server.pid);
  const heap = await session.evaluate<Omit<LoadMemory, "target" | "rps" | keyof typeof status>>(
    HEAP_EXPRESSION,
  );
  return { ...status, ...heap };
}

/** Starts a compared server with the inspector on, runs `measure` with it, and stops it. */
async function withInspected<T>(
  target: CostTarget,
  upstream: Server,
  dir: string,
  measure: (server: Server, session: InspectorSession) => Promise<T>,
): Promise<T> {
  const port = freePort();
  const server = await startCostTarget(target, upstream.url, dir, [`--inspect=127.0.0.1:${port}`]);
  let session: InspectorSession | null = null;
  try {
    session = await openInspector(port);
    return await measure(server, session);
  } finally {
    session?.close();
    await server.stop();
  }
}

/**
 * The bare passthrough, the floor and Gemini Proxy under load, one at a time.
 * @param upstream The 0 ms fake upstream.
 * @param dir A scratch folder for the servers' KV files.
 */
export async function measureLoadMemory(upstream: Server, dir: string): Promise<LoadMemory[]> {
  const out: LoadMemory[] = [];
  for (const target of MAIN_TARGETS) {
    out.push(
      await withInspected(target, upstream, dir, async (server, session) => {
        const request = buildRequest(
          { kind: isBare(target) ? "bare" : "ours", url: server.url, upstreamUrl: upstream.url },
          "native",
          false,
        );
        await runWrk(request, { connections: LOAD_CONNECTIONS, seconds: WARM_SECONDS });
        const load = runWrk(request, { connections: LOAD_CONNECTIONS, seconds: LOAD_SECONDS });
        await new Promise((resolve) => setTimeout(resolve, READ_AFTER_MS));
        const memory = await readLoadMemory(server, session);
        const { rps } = await load;
        return { target, rps, ...memory };
      }),
    );
  }
  return out;
}

/**
 * The bare passthrough and Gemini Proxy with {@linkcode HELD_STREAMS} streams open at once (the
 * floor reads bodies whole, so it has no streams to hold), read half way through the streams.
 * `rps` carries the streams that completed.
 * @param dir A scratch folder for Gemini Proxy's KV file.
 */
export async function measureHeldMemory(dir: string): Promise<LoadMemory[]> {
  const upstream = await startUpstream({
    delayMs: 0,
    streamChunks: HELD_CHUNKS,
    chunkDelayMs: HELD_CHUNK_DELAY_MS,
  });
  const out: LoadMemory[] = [];
  try {
    for (const target of ["bare", "ours"] as const) {
      out.push(
        await withInspected(target, upstream, `${dir}/held`, async (server, session) => {
          const request = buildRequest(
            { kind: target, url: server.url, upstreamUrl: upstream.url },
            "native",
            true,
          );
          const spec = { ...request, durationMs: 0, once: true, expectedEvents: HELD_CHUNKS };
          await runStreamClient({ ...spec, concurrency: 50 });
          const held = runStreamClient({ ...spec, concurrency: HELD_STREAMS });
          await new Promise((resolve) =>
            setTimeout(resolve, (HELD_CHUNKS * HELD_CHUNK_DELAY_MS) / 2)
          );
          const memory = await readLoadMemory(server, session);
          const { streams } = await held;
          return { target, rps: streams, ...memory };
        }),
      );
    }
  } finally {
    await upstream.stop();
  }
  return out;
}

/** The runtime's native allocations: anonymous memory outside the JavaScript heap and external. */
export function nativeBytes(m: LoadMemory): number {
  return Math.max(0, m.anon - m.heapTotal - m.external);
}

/** The tables of memory under load and with streams held open. */
export function renderLoadMemory(memory: LoadMemory[], held: LoadMemory[]): string[] {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const rows: [string, (m: LoadMemory) => string][] = [
    ["RSS", (m) => mb(m.rss)],
    ["mapped from files (the runtime's binary, libraries)", (m) => mb(m.file)],
    ["anonymous", (m) => mb(m.anon)],
    ["of which the JavaScript heap, committed", (m) => mb(m.heapTotal)],
    ["- young generation", (m) => mb(m.newSpace)],
    ["- old generation (its objects take)", (m) => `${mb(m.oldSpace)} (${mb(m.oldUsed)})`],
    ["- code and other spaces", (m) => mb(m.heapTotal - m.newSpace - m.oldSpace)],
    ["of which V8's external memory", (m) => mb(m.external)],
    ["of which the runtime's native allocations (the rest)", (m) => mb(nativeBytes(m))],
  ];
  const table = (list: LoadMemory[], first: [string, (m: LoadMemory) => string]) => [
    `| | ${list.map((m) => COST_LABELS[m.target]).join(" | ")} |`,
    `|---|${list.map(() => "---").join("|")}|`,
    ...[first, ...rows].map(([label, cell]) => `| ${label} | ${list.map(cell).join(" | ")} |`),
  ];
  return [
    "### Resident memory under load, part by part",
    "",
    `Each server alone under wrk at ${LOAD_CONNECTIONS} connections on the native route (after`,
    `${WARM_SECONDS} s of warm-up), its memory read ${
      READ_AFTER_MS / 1000
    } s into ${LOAD_SECONDS} s of`,
    "load (`bench/_rss_load.ts`): RSS and its file-backed and anonymous pages from",
    "`/proc/<pid>/status`, and over the inspector the JavaScript heap V8 has committed (by",
    "generation) and its external memory. What anonymous memory is left is the runtime's native",
    "allocations: the HTTP server's and fetch's connections and buffers, the store's engine, the",
    "allocator's caches.",
    "",
    ...table(memory, ["req/s while read", (m) => Math.round(m.rps).toLocaleString("en-US")]),
    "",
    `The same with ${HELD_STREAMS.toLocaleString("en-US")} streams held open at once (each`,
    `${HELD_CHUNKS} events ${HELD_CHUNK_DELAY_MS} ms apart from a fake upstream of its own), read`,
    "half way through them; the floor reads bodies whole, so it has no streams to hold.",
    "",
    ...table(held, ["streams completed", (m) => m.rps.toLocaleString("en-US")]),
    "",
  ];
}
