/**
 * The unmet targets read against the profile: what this run's figures say about where the gap to
 * each target lies. Written from the profile's own measurements, so it holds for the run it sits
 * in.
 * @module
 */
import { allocatedKb, type Allocations, mb } from "./_alloc.ts";
import { type Cost, type CostTarget, MANY_KEYS } from "./_costs.ts";
import { EVENTS, type FirstChunk } from "./_first_chunk.ts";
import type { PromiseCounts } from "./_promises.ts";
import { type LoadMemory, nativeBytes } from "./_rss_load.ts";
import type { RssStep } from "./rss_steps.ts";

/** Samples per 1,000 requests at one place, for both servers. */
export interface SampleRow {
  place: string;
  bare: number;
  ours: number;
}

/** Everything the reading draws on. */
export interface ProfileFigures {
  costs: Cost[];
  allocations: Map<CostTarget, Allocations>;
  samples: SampleRow[];
  promises: PromiseCounts;
  rss: RssStep[];
  loadMemory: LoadMemory[];
  heldMemory: LoadMemory[];
  firstChunk: FirstChunk[];
}

/**
 * The reading, as Markdown lines.
 * @param f The profile's figures.
 */
export function renderReading(f: ProfileFigures): string[] {
  const cpu = (t: CostTarget) => f.costs.find((c) => c.route === "native" && c.target === t)!.cpuUs;
  const us = (n: number) => `${Math.round(n)} µs`;
  const [bare, floor, ours, keys, memory] = [
    cpu("bare"),
    cpu("floor"),
    cpu("ours"),
    cpu("keys"),
    cpu("memory"),
  ];
  const kv = ours - memory;
  const own = ours - floor - Math.max(0, kv);
  const sample = (place: string) => f.samples.find((r) => r.place === place);
  const native = sample("runtime native code (no JS frame: Rust, V8 C++, libc)");
  const fetch = sample("runtime JS: deno_fetch");
  const ourCode = f.samples.filter((r) => /^(core|adapters)\//.test(r.place))
    .reduce((s, r) => s + r.ours, 0);
  const all = f.samples.reduce((s, r) => ({ bare: s.bare + r.bare, ours: s.ours + r.ours }), {
    bare: 0,
    ours: 0,
  });
  const per = (p: PromiseCounts["bare"]) => (p.promises / p.requests).toFixed(0);
  const a = (t: CostTarget) => f.allocations.get(t)!;
  const many = MANY_KEYS.toLocaleString("en-US");
  const extra = grownSites(a("bare"), a("ours"), 3).map((s) => `\`${s}\``).join(", ");
  return [
    "### The unmet targets, read against this profile",
    "",
    ...readCeiling(f),
    `- **Throughput, p99, 256 connections, Portkey.** Gemini Proxy spends ${us(ours)} of CPU per`,
    `  request on the native route, ${(ours / bare).toFixed(2)}x the bare passthrough's ${
      us(bare)
    };`,
    `  the floor, doing only the runtime work the product must ask for, spends ${
      us(floor)
    }. On this`,
    "  machine req/s follows CPU per request (see CPU per request), so these targets stand or fall",
    `  with that gap. Of the ${us(ours - bare)} over the bare passthrough: ${us(floor - bare)} is`,
    `  the floor's runtime work, ${kvShare(kv)}, and about ${us(own)} is the proxy's own work. The`,
    "  samples say where that goes: runtime native code",
    `  ${
      native ? `${native.bare.toFixed(1)} to ${native.ours.toFixed(1)}` : "-"
    } samples per 1,000`,
    `  requests (of ${all.bare.toFixed(1)} to ${all.ours.toFixed(1)} in all), fetch's JavaScript`,
    `  ${fetch ? `${fetch.bare.toFixed(1)} to ${fetch.ours.toFixed(1)}` : "-"}, our own files`,
    `  ${
      ourCode.toFixed(1)
    }. The native share is the HTTP server and fetch in Rust and the promise`,
    `  and microtask machinery: ${per(f.promises.ours)} promises per request against the bare`,
    `  passthrough's ${per(f.promises.bare)}. Memory allocated per request is`,
    `  ${allocatedKb(a("ours")).toFixed(1)} KB against ${
      allocatedKb(a("bare")).toFixed(1)
    } KB; the`,
    `  sites that allocate most beyond the bare passthrough's are ${extra}.`,
    `- **${many} keys within 5%.** ${us(keys)} against ${us(ours)} per request`,
    `  (${keys >= ours ? "+" : ""}${((100 * (keys - ours)) / ours).toFixed(0)}%), with`,
    `  ${
      (allocatedKb(a("keys")) - allocatedKb(a("ours"))).toFixed(1)
    } KB more allocated per request`,
    `  and a live heap of ${mb(a("keys").liveBytes)} MB against ${
      mb(a("ours").liveBytes)
    } MB: with`,
    "  more keys than requests per second, nearly every request starts a key's counter rows for the",
    "  second, and those rows are written again in full each second (the sites under Gemini Proxy",
    "  with one thing changed).",
    ...readRss(f),
    ...readFirstChunk(f.firstChunk),
    "",
  ];
}

/**
 * The ceiling paragraph: what share of the bare passthrough's req/s the floor itself serves (the
 * most any proxy doing the product's runtime work can reach here), and Gemini Proxy's share of
 * the floor's.
 */
function readCeiling(f: ProfileFigures): string[] {
  const rps = (t: CostTarget) => f.costs.find((c) => c.route === "native" && c.target === t)!.rps;
  const at256 = (t: CostTarget) => f.loadMemory.find((m) => m.target === t)!.rps;
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  const pct = (a: number, b: number) => `${Math.round((100 * a) / b)}%`;
  const [bare, floor, ours] = [rps("bare"), rps("floor"), rps("ours")];
  const [bare256, floor256, ours256] = [at256("bare"), at256("floor"), at256("ours")];
  return [
    "- **What the runtime work alone leaves.** The floor reads both bodies whole (to replay a",
    "  request on another key, to read an answer's usage), rebuilds the headers, links the abort",
    "  and writes a record per request, and runs none of the proxy's logic. At 32 connections it",
    `  served ${n(floor)} req/s against the bare passthrough's ${n(bare)} (${
      pct(floor, bare)
    }; see`,
    `  CPU per request); at 256 connections ${n(floor256)} against ${n(bare256)}`,
    `  (${pct(floor256, bare256)}; see Resident memory under load). A throughput target above`,
    "  those shares is out of reach on this runtime and machine for any proxy that must replay",
    `  requests and read usage, before any logic of its own. Gemini Proxy served ${n(ours)} req/s,`,
    `  ${pct(ours, floor)} of the floor's, at 32 connections and ${n(ours256)},`,
    `  ${pct(ours256, floor256)}, at 256: that share is its own code, read below.`,
  ];
}

/** The RSS paragraph: start-up part by part, then the gap under load part by part. */
function readRss(f: ProfileFigures): string[] {
  const rss = (word: string) => {
    const i = f.rss.findIndex((s) => s.step.includes(word));
    return { at: mb(f.rss[i]!.rssBytes), added: mb(f.rss[i]!.rssBytes - f.rss[i - 1]!.rssBytes) };
  };
  const load = (t: CostTarget, list = f.loadMemory) => list.find((m) => m.target === t)!;
  const [bare, ours] = [load("bare"), load("ours")];
  const [heldBare, heldOurs] = [load("bare", f.heldMemory), load("ours", f.heldMemory)];
  const more = (part: (m: LoadMemory) => number, pair = [bare, ours]) => {
    const d = part(pair[1]!) - part(pair[0]!);
    return `${d >= 0 ? "+" : "-"}${mb(Math.abs(d))} MB`;
  };
  const held = (part: (m: LoadMemory) => number) => more(part, [heldBare, heldOurs]);
  const live = (t: CostTarget) => mb(f.allocations.get(t)!.liveBytes);
  return [
    `- **RSS.** Deno serving HTTP holds ${rss("Deno.serve").at} MB; the started proxy`,
    `  ${rss("started").at} MB. Of the difference, zod adds ${
      rss("zod").added
    } MB, the rest of the`,
    `  proxy's modules ${rss("rest of").added} MB and starting it ${rss("started").added} MB (see`,
    `  Resident memory at start-up). Under load at 256 connections its RSS is ${mb(ours.rss)} MB`,
    `  against the bare passthrough's ${mb(bare.rss)} MB (${more((m) => m.rss)}; see Resident`,
    "  memory under load). By part: the JavaScript heap's old generation",
    `  ${more((m) => m.oldSpace)} committed (its objects ${more((m) => m.oldUsed)}), the young`,
    `  generation ${more((m) => m.newSpace)}, code and other heap spaces`,
    `  ${more((m) => m.heapTotal - m.newSpace - m.oldSpace)}, pages mapped from files`,
    `  ${more((m) => m.file)}, external memory ${more((m) => m.external)} and the runtime's native`,
    `  allocations ${more(nativeBytes)}. A full collection leaves ${live("ours")} MB live against`,
    `  ${
      live("bare")
    } MB (see Memory allocated per request): the old generation holds objects that`,
    "  outlived two young collections, such as a request's state while it waits on upstream and",
    "  the log records queued for their next batch, until a full collection frees them, and V8",
    "  sizes it as a multiple of what the last full collection left. With 1,000 streams held",
    `  open the RSS is ${mb(heldOurs.rss)} MB against ${mb(heldBare.rss)} MB: the young generation`,
    `  ${held((m) => m.newSpace)}, the old ${held((m) => m.oldSpace)}, external memory`,
    `  ${held((m) => m.external)} and native allocations ${
      held(nativeBytes)
    }. The bare passthrough`,
    "  hands each upstream body to the HTTP server whole, so its chunks never reach JavaScript;",
    "  Gemini Proxy reads every chunk for usage, and what that allocates per chunk grows the young",
    "  generation.",
  ];
}

/** The first-chunk paragraph: one stream at a time, and its CPU per stream. */
function readFirstChunk(chunks: FirstChunk[]): string[] {
  const at = (target: FirstChunk["target"], route: FirstChunk["route"]) =>
    chunks.find((c) => c.target === target && c.route === route)!;
  const added = (route: FirstChunk["route"]) => {
    const ms = at("ours", route).p50Ms - at("bare", route).p50Ms;
    return `${ms >= 0 ? "+" : ""}${ms.toFixed(2)} ms`;
  };
  const cpu = (target: FirstChunk["target"], route: FirstChunk["route"]) =>
    `${(at(target, route).cpuUs / 1000).toFixed(1)} ms`;
  return [
    "- **First chunk within 1 ms.** One stream at a time, Gemini Proxy adds",
    `  ${added("native")} (native) and ${added("openai")} (OpenAI) to the bare passthrough's first`,
    `  chunk (see First chunk, one stream at a time). Its process spends ${cpu("ours", "native")}`,
    `  of CPU per stream (OpenAI ${cpu("ours", "openai")}) against the bare passthrough's`,
    `  ${cpu("bare", "native")} (${cpu("bare", "openai")}): it reads each chunk for usage and`,
    "  finishes a log record per stream. The bench's streaming rows start 16 streams at once on two",
    "  cores, where a first chunk also waits for that work on the streams ahead of it.",
    "- **No chunk delayed (gap p99 within 1 ms).** The same work, spread over the stream: each of",
    `  the ${EVENTS} chunks of a stream passes through Gemini Proxy's JavaScript (a read into its own`,
    "  buffer, the usage scan, the hand-off to the HTTP server), where the bare passthrough hands",
    "  upstream's body to the HTTP server whole and no chunk reaches JavaScript. With 16 streams at",
    "  once on two cores, a chunk waits for that work on the other streams' chunks: the gap's 99th",
    "  percentile grows by that queue. No chunk is held for the next one: each goes on as soon as",
    "  it is read, and every stream arrives complete (the Streaming table's incomplete streams).",
  ];
}

/** What Deno KV costs per request, from the production row less the in-memory row. */
function kvShare(us: number): string {
  const n = Math.round(us);
  // A store in memory keeps every log on the heap, which costs collections of its own: a small
  // or negative difference means Deno KV costs no more than that.
  return n > 0
    ? `${n} µs is Deno KV (the in-memory row)`
    : `Deno KV costs no more than a store in memory (the in-memory row: ${n} µs)`;
}

/** The allocation sites whose bytes per request grew most from `base` to `other`, by name. */
export function grownSites(base: Allocations, other: Allocations, count: number): string[] {
  const per = (a: Allocations, site: string) => (a.bySite.get(site) ?? 0) / a.requests;
  return [...new Set([...base.bySite.keys(), ...other.bySite.keys()])]
    .sort((x, y) => (per(other, y) - per(base, y)) - (per(other, x) - per(base, x)))
    .slice(0, count);
}
