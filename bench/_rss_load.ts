/**
 * What a server's resident memory under load is made of: each server runs alone under wrk at 256
 * connections on the native route, and near the end of the load its RSS is split from
 * `/proc/<pid>/status` (file-backed pages: the runtime's binary and the libraries it maps;
 * anonymous memory) and, over the inspector, the JavaScript heap the runtime has committed (by
 * space, with what the objects in it take), and V8's external memory (buffers held for
 * JavaScript). What anonymous memory is left is the runtime's native allocations: the HTTP
 * server's and fetch's connections and buffers, the store's engine, allocator caches.
 * @module
 */
import { COST_LABELS, type CostTarget, isBare, MAIN_TARGETS, startCostTarget } from "./_costs.ts";
import { openInspector } from "./_inspector.ts";
import { freePort, type Server } from "./_process.ts";
import { buildRequest } from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** Connections of the load: the RSS target's. */
export const LOAD_CONNECTIONS = 256;
const WARM_SECONDS = 2;
const LOAD_SECONDS = 8;
/** When, into the measured load, the memory is read. */
const READ_AFTER_MS = 6_000;

/** One server's memory, in bytes, read under load. */
export interface LoadMemory {
  target: CostTarget;
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

/**
 * The bare passthrough, the floor and Gemini Proxy under load, one at a time.
 * @param upstream The 0 ms fake upstream.
 * @param dir A scratch folder for the servers' KV files.
 */
export async function measureLoadMemory(upstream: Server, dir: string): Promise<LoadMemory[]> {
  const out: LoadMemory[] = [];
  for (const target of MAIN_TARGETS) {
    const port = freePort();
    const server = await startCostTarget(target, upstream.url, `${dir}`, [
      `--inspect=127.0.0.1:${port}`,
    ]);
    const session = await openInspector(port);
    try {
      const request = buildRequest(
        { kind: isBare(target) ? "bare" : "ours", url: server.url, upstreamUrl: upstream.url },
        "native",
        false,
      );
      await runWrk(request, { connections: LOAD_CONNECTIONS, seconds: WARM_SECONDS });
      const load = runWrk(request, { connections: LOAD_CONNECTIONS, seconds: LOAD_SECONDS });
      await new Promise((resolve) => setTimeout(resolve, READ_AFTER_MS));
      const status = statusBytes(server.pid);
      const heap = await session.evaluate<Omit<LoadMemory, "target" | "rps" | keyof typeof status>>(
        HEAP_EXPRESSION,
      );
      const { rps } = await load;
      out.push({ target, rps, ...status, ...heap });
    } finally {
      session.close();
      await server.stop();
    }
  }
  return out;
}

/** The runtime's native allocations: anonymous memory outside the JavaScript heap and external. */
export function nativeBytes(m: LoadMemory): number {
  return Math.max(0, m.anon - m.heapTotal - m.external);
}

/** The table of memory under load. */
export function renderLoadMemory(memory: LoadMemory[]): string[] {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const rows: [string, (m: LoadMemory) => string][] = [
    ["req/s while read", (m) => Math.round(m.rps).toLocaleString("en-US")],
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
    `| | ${memory.map((m) => COST_LABELS[m.target]).join(" | ")} |`,
    `|---|${memory.map(() => "---").join("|")}|`,
    ...rows.map(([label, cell]) => `| ${label} | ${memory.map(cell).join(" | ")} |`),
    "",
  ];
}
