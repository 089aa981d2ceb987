/**
 * Bytes a server allocates per request, and where: V8's sampling heap profiler, driven over the
 * inspector protocol (the server runs with `--inspect`), keeping the samples of objects the
 * garbage collector has already freed too. So the figure is everything allocated while wrk runs,
 * divided by the requests served: the work the allocator and the young-generation collector do
 * per request, whatever lives on.
 * @module
 */
import {
  CONNECTIONS,
  COST_LABELS,
  type CostTarget,
  isBare,
  MAIN_TARGETS,
  startCostTarget,
  VARIANTS,
} from "./_costs.ts";
import { openInspector } from "./_inspector.ts";
import { freePort, ROOT, type Server } from "./_process.ts";
import { buildRequest } from "./_targets.ts";
import { runWrk } from "./_wrk.ts";

/** A server's allocations over one load. */
export interface Allocations {
  /** Requests served while sampling. */
  requests: number;
  /** Bytes allocated, by allocation site (`function file`). */
  bySite: Map<string, number>;
  /** The JavaScript heap's live bytes right after the load, after a full collection. */
  liveBytes: number;
}

/** One node of V8's sampling heap profile. */
interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

/**
 * Samples the allocations of a server started with `--inspect=127.0.0.1:<port>` while `load`
 * runs.
 * @param inspectPort The inspector's port.
 * @param load Runs the load; resolves to the requests served.
 * @param root The repository root, cut from file names.
 */
export async function sampleAllocations(
  inspectPort: number,
  load: () => Promise<number>,
  root: string,
): Promise<Allocations> {
  const session = await openInspector(inspectPort);
  const call = session.call;
  try {
    await call("HeapProfiler.enable");
    await call("HeapProfiler.startSampling", {
      samplingInterval: 8192,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const requests = await load();
    const { profile } = await call<{ profile: { head: ProfileNode } }>(
      "HeapProfiler.stopSampling",
    );
    await call("HeapProfiler.collectGarbage");
    const heap = await call<{ usedSize: number }>("Runtime.getHeapUsage");
    const bySite = new Map<string, number>();
    const walk = (node: ProfileNode) => {
      const site = siteName(node.callFrame, root);
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    return { requests, bySite, liveBytes: heap.usedSize };
  } finally {
    session.close();
  }
}

/** `function file` for a frame: our files relative to the root, runtime modules as named. */
function siteName(frame: { functionName: string; url: string }, root: string): string {
  const file = frame.url.replace(`file://${root}/`, "").replace(/^ext:/, "") || "(native)";
  return `${frame.functionName || "(anonymous)"} ${file}`;
}

const ALLOC_SECONDS = 6;

/** Each server's allocations on the native route, one server at a time (see `_alloc.ts`). */
export async function measureAllocations(
  upstream: Server,
  dir: string,
): Promise<Map<CostTarget, Allocations>> {
  const out = new Map<CostTarget, Allocations>();
  for (const target of [...MAIN_TARGETS, ...VARIANTS]) {
    const port = freePort();
    const server = await startCostTarget(target, upstream.url, dir, [
      `--inspect=127.0.0.1:${port}`,
    ]);
    try {
      const kind = isBare(target) ? "bare" : "ours";
      const request = buildRequest(
        { kind, url: server.url, upstreamUrl: upstream.url },
        "native",
        false,
      );
      await runWrk(request, { connections: CONNECTIONS, seconds: 2 });
      const load = async () =>
        (await runWrk(request, { connections: CONNECTIONS, seconds: ALLOC_SECONDS })).requests;
      out.set(target, await sampleAllocations(port, load, ROOT));
    } finally {
      await server.stop();
    }
  }
  return out;
}

/** Bytes as MB, one decimal. */
export function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** Bytes allocated per request, in KB. */
export function allocatedKb(a: Allocations): number {
  return [...a.bySite.values()].reduce((s, n) => s + n, 0) / a.requests / 1000;
}

/** The allocations table: KB per request by server, then the proxy's largest sites. */
export function renderAllocations(allocs: Map<CostTarget, Allocations>): string[] {
  const kb = (a: Allocations, bytes: number) => (bytes / a.requests / 1000).toFixed(1);
  const bare = allocs.get("bare")!;
  const ours = allocs.get("ours")!;
  const lines = MAIN_TARGETS.map((t) => {
    const a = allocs.get(t)!;
    const ratio = allocatedKb(a) / allocatedKb(bare);
    return `| ${COST_LABELS[t]} | ${allocatedKb(a).toFixed(1)} KB | ${ratio.toFixed(2)}x | ${
      mb(a.liveBytes)
    } MB |`;
  });
  const sites = [...ours.bySite].sort((x, y) => y[1] - x[1]).slice(0, 15).map(([site, bytes]) =>
    `| \`${site}\` | ${kb(bare, bare.bySite.get(site) ?? 0)} KB | ${kb(ours, bytes)} KB |`
  );
  return [
    "### Memory allocated per request",
    "",
    "Everything allocated on the JavaScript heap while wrk ran the native route for",
    `${ALLOC_SECONDS} s at ${CONNECTIONS} connections (after 2 s of warm-up), objects already freed included,`,
    "divided by the requests served: V8's sampling heap profiler over the inspector",
    "(`bench/_alloc.ts`; each server started with `--inspect`, one at a time). Allocation costs CPU",
    "twice, to allocate and to collect, and what a request holds across an `await` survives a",
    "young-generation collection and is copied. The live heap is what the JavaScript heap holds",
    "right after the load, once a full collection has run.",
    "",
    "| server | allocated per request | over the bare passthrough | live heap after the load |",
    "|---|---|---|---|",
    ...lines,
    "",
    "Gemini Proxy's largest allocation sites (a site is the function that allocated; runtime",
    "modules by name), with the bare passthrough's figure at the same site:",
    "",
    "| site | bare passthrough | Gemini Proxy |",
    "|---|---|---|",
    ...sites,
    "",
  ];
}
