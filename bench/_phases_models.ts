/**
 * The invented-models phase: what a token holder can grow by naming models that do not exist.
 * One proxy with a large key pool (where per-model ready lists used to cost the most) is warmed
 * up, then takes the same number of requests twice: once all for one real model (the growth any
 * load causes), then each naming a model no other request names. RSS and the /metrics line count
 * are read before and after each, after three seconds of rest.
 * @module
 */
import type { FloodResult, FloodSpec } from "./model_flood.ts";
import { busy, fixed, measured, pad, tail, verify } from "./_measure.ts";
import type { BenchOptions } from "./_options.ts";
import { readMemory, ROOT, type Server } from "./_process.ts";
import type { BenchResults, ModelFloodRow } from "./_results.ts";
import { benchShape, startGeminiProxyFromFile, startUpstream } from "./_servers.ts";
import { buildRequest, METRICS_TOKEN, MODEL, productionEnv, PROXY_TOKEN } from "./_targets.ts";

/** Requests in flight during each flood. */
const CONCURRENCY = 32;

/**
 * Runs the phase.
 * @param options Flags (request count, key count).
 * @param results Where figures go.
 * @param kvDir Temp folder for KV files.
 */
export async function runInventedModelsPhase(
  options: BenchOptions,
  results: BenchResults,
  kvDir: string,
): Promise<void> {
  const { requests, keys } = options.invented;
  console.log(`\n== ${requests.toLocaleString("en-US")} invented model names, ${keys} keys ==`);
  const started: Server[] = [];
  try {
    const upstream = await startUpstream(benchShape(0));
    started.push(upstream);
    const proxy = await startGeminiProxyFromFile(
      productionEnv({ upstreamUrl: upstream.url, kvPath: `${kvDir}/invented.kv`, keys }),
      `Gemini Proxy (${keys} keys)`,
    );
    started.push(proxy);
    const problem = await verify(
      buildRequest({ kind: "ours", url: proxy.url, upstreamUrl: upstream.url }, "native", false),
    );
    if (problem) throw new Error(`${proxy.name}: ${problem}\n--- its output ---\n${tail(proxy)}`);
    // Warm-up on both paths, real and invented (names the measured floods never use): the heap
    // first grows to its working size under any load, and that is not what is measured.
    const warmup = { real: requests, invented: Math.ceil(requests / 4) };
    await runFlood(spec(proxy, warmup.real, null));
    await runFlood(spec(proxy, warmup.invented, "gemini-warmup"));
    const rows: ModelFloodRow[] = [];
    for (
      const [label, prefix] of [["one real model", null], ["invented names", "gemini-x"]] as const
    ) {
      rows.push(await floodRow(proxy, label, spec(proxy, requests, prefix)));
    }
    results.inventedModels = {
      keys,
      requests,
      concurrency: CONCURRENCY,
      warmup,
      rows,
      startedAt: new Date().toISOString(),
      revision: results.machine.revision,
      command: results.command,
    };
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}

async function floodRow(
  proxy: Server,
  label: ModelFloodRow["label"],
  floodSpec: FloodSpec,
): Promise<ModelFloodRow> {
  await rest();
  const rssBeforeMb = readMemory(proxy.pid)?.rssMb ?? 0;
  const metricsLinesBefore = await metricsLines(proxy);
  const { value: flood, foreignCpu } = await measured(() => runFlood(floodSpec));
  await rest();
  const row: ModelFloodRow = {
    label,
    flood,
    rssBeforeMb,
    rssAfterMb: readMemory(proxy.pid)?.rssMb ?? 0,
    metricsLinesBefore,
    metricsLinesAfter: await metricsLines(proxy),
    foreignCpu,
  };
  console.log(
    `${pad(label, 20)} ${fixed(flood.rps, 0).padStart(6)} req/s  statuses ${
      JSON.stringify(flood.statuses)
    }  RSS ${fixed(row.rssBeforeMb, 0)} -> ${
      fixed(row.rssAfterMb, 0)
    } MB  /metrics ${row.metricsLinesBefore} -> ${row.metricsLinesAfter} lines` +
      busy(foreignCpu),
  );
  return row;
}

function spec(proxy: Server, count: number, prefix: string | null): FloodSpec {
  return {
    base: proxy.url,
    token: PROXY_TOKEN,
    count,
    concurrency: CONCURRENCY,
    prefix,
    model: MODEL,
  };
}

/** Lines of the /metrics text (samples and comments). */
async function metricsLines(proxy: Server): Promise<number> {
  const response = await fetch(`${proxy.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return (await response.text()).split("\n").filter((line) => line !== "").length;
}

/** Idle time before a reading, so the figure is not taken in the middle of garbage collection. */
const REST_MS = 3000;

function rest(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, REST_MS));
}

/**
 * Runs bench/model_flood.ts as its own process and reads its result line.
 * @param floodSpec What to send.
 */
async function runFlood(floodSpec: FloodSpec): Promise<FloodResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `${ROOT}/bench/model_flood.ts`,
      JSON.stringify(floodSpec),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((l) => l.startsWith("FLOOD_JSON "));
  if (!output.success || !line) {
    throw new Error(`model flood failed:\n${text}\n${new TextDecoder().decode(output.stderr)}`);
  }
  return JSON.parse(line.slice("FLOOD_JSON ".length)) as FloodResult;
}
