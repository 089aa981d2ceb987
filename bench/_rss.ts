/**
 * Gemini Proxy's resident memory at start-up, part by part: runs `bench/rss_steps.ts` in fresh
 * processes and keeps each step's median.
 * @module
 */
import { ROOT } from "./_process.ts";
import type { RssStep } from "./rss_steps.ts";

const RUNS = 3;

/**
 * Each step's median RSS and heap over a few fresh processes.
 * @param upstreamUrl Where the started proxy would send requests (none is sent).
 * @param dir A scratch folder for the proxy's KV file.
 */
export async function measureRssSteps(upstreamUrl: string, dir: string): Promise<RssStep[]> {
  const runs: RssStep[][] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-kv",
        "--v8-flags=--expose-gc",
        "bench/rss_steps.ts",
        upstreamUrl,
        `${dir}/rss-${i}.kv`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`rss_steps.ts failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
    }
    runs.push(text.trim().split("\n").map((line) => JSON.parse(line) as RssStep));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return runs[0]!.map((first, i) => ({
    step: first.step,
    rssBytes: median(runs.map((r) => r[i]!.rssBytes)),
    heapBytes: median(runs.map((r) => r[i]!.heapBytes)),
  }));
}

/** The start-up memory table. */
export function renderRssSteps(steps: RssStep[]): string[] {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const lines = steps.map((s, i) => {
    const added = i === 0 ? "-" : `+${mb(s.rssBytes - steps[i - 1]!.rssBytes)} MB`;
    return `| ${s.step} | ${mb(s.rssBytes)} MB | ${added} | ${mb(s.heapBytes)} MB |`;
  });
  return [
    "### Resident memory at start-up, part by part",
    "",
    "One fresh Deno process loads Gemini Proxy's parts one after another and reads its RSS and",
    "JavaScript heap (after a full collection) after each (`bench/rss_steps.ts`; medians of",
    `${RUNS} processes). Each row adds to the rows above it, so a part's figure is what it adds to`,
    "what is already loaded.",
    "",
    "| loaded | RSS | added | JS heap |",
    "|---|---|---|---|",
    ...lines,
    "",
  ];
}
