/**
 * The first streamed chunk one stream at a time: what the proxy's own work adds before the first
 * byte, apart from the queueing that many streams starting together add on a busy machine. Also
 * CPU per streamed request, from `/proc`, over the same streams.
 * @module
 */
import { type CostTarget, startCostTarget } from "./_costs.ts";
import { cpuMs, type Server } from "./_process.ts";
import { buildRequest, type Route } from "./_targets.ts";
import { measureStreams } from "./stream_client.ts";

/** The servers compared: the floor reads bodies whole, so it has no first chunk of its own. */
const TARGETS = ["bare", "ours"] as const;
const ROUTES: Route[] = ["native", "openai"];
const ROUNDS = 3;
const SECONDS = 4;
/** SSE events in each of the fake upstream's streams. */
export const EVENTS = 20;

/** One server's first chunk on one route. */
export interface FirstChunk {
  target: (typeof TARGETS)[number];
  route: Route;
  /** Median over the rounds of each round's median, ms. */
  p50Ms: number;
  /** CPU of the server's process per stream, µs (the lowest round). */
  cpuUs: number;
  /** Streams measured in all rounds. */
  streams: number;
}

/**
 * Streams one at a time through the bare passthrough and Gemini Proxy, rounds interleaved.
 * @param upstream The 0 ms fake upstream.
 * @param dir A scratch folder for Gemini Proxy's KV file.
 */
export async function measureFirstChunk(upstream: Server, dir: string): Promise<FirstChunk[]> {
  const servers = new Map<CostTarget, Server>();
  const rounds = new Map<string, { p50: number[]; cpu: number[]; streams: number }>();
  const own = `${dir}/first-chunk`;
  await Deno.mkdir(own, { recursive: true });
  try {
    for (const target of TARGETS) {
      servers.set(target, await startCostTarget(target, upstream.url, own));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const route of ROUTES) {
        for (const target of TARGETS) {
          const server = servers.get(target)!;
          const kind = target === "ours" ? "ours" : "bare";
          const request = buildRequest(
            { kind, url: server.url, upstreamUrl: upstream.url },
            route,
            true,
          );
          const spec = {
            url: request.url,
            headers: request.headers,
            body: request.body!,
            concurrency: 1,
            expectedEvents: EVENTS,
          };
          if (round === 0) await measureStreams({ ...spec, durationMs: 1000 });
          const before = cpuMs(server.pid) ?? 0;
          const result = await measureStreams({ ...spec, durationMs: SECONDS * 1000 });
          const after = cpuMs(server.pid) ?? 0;
          if (result.streams === 0) throw new Error(`${target} ${route}: ${result.firstError}`);
          const id = `${target} ${route}`;
          const held = rounds.get(id) ?? { p50: [], cpu: [], streams: 0 };
          held.p50.push(result.ttfcP50Ms);
          held.cpu.push(((after - before) * 1000) / result.streams);
          held.streams += result.streams;
          rounds.set(id, held);
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return ROUTES.flatMap((route) =>
    TARGETS.map((target) => {
      const held = rounds.get(`${target} ${route}`)!;
      return {
        target,
        route,
        p50Ms: median(held.p50),
        cpuUs: Math.min(...held.cpu),
        streams: held.streams,
      };
    })
  );
}

/** The first-chunk table. */
export function renderFirstChunk(chunks: FirstChunk[]): string[] {
  const lines = ROUTES.map((route) => {
    const [bare, ours] = TARGETS.map((t) =>
      chunks.find((c) => c.route === route && c.target === t)!
    );
    const added = ours!.p50Ms - bare!.p50Ms;
    return `| ${route} | ${bare!.p50Ms.toFixed(2)} ms | ${ours!.p50Ms.toFixed(2)} ms | ${
      added >= 0 ? "+" : ""
    }${added.toFixed(2)} ms | ${bare!.cpuUs.toFixed(0)} µs | ${ours!.cpuUs.toFixed(0)} µs | ${
      bare!.streams
    } / ${ours!.streams} |`;
  });
  return [
    "### First chunk, one stream at a time",
    "",
    `Streams one at a time against the 0 ms fake upstream (${EVENTS} events 10 ms apart), ${ROUNDS}`,
    `rounds of ${SECONDS} s interleaved: the first chunk's median (the median of the rounds'), and`,
    "the server's CPU per stream from `/proc` (its lowest round). With nothing else in flight, the",
    "added time is the proxy's own work before the first byte; the bench's streaming rows start 16",
    "streams at once, where each also waits for the work of the others.",
    "",
    "| route | bare passthrough, first chunk p50 | Gemini Proxy | added | bare passthrough's CPU per stream | Gemini Proxy's | streams (bare / Gemini Proxy) |",
    "|---|---|---|---|---|---|---|",
    ...lines,
    "",
  ];
}
