/**
 * Promises per request of the bare passthrough and Gemini Proxy: runs `bench/promise_count.ts`
 * for each and renders the comparison.
 * @module
 */
import { ROOT } from "./_process.ts";
import type { PromiseCount } from "./promise_count.ts";

/** Each server's count. */
export interface PromiseCounts {
  bare: PromiseCount;
  ours: PromiseCount;
}

/**
 * Counts both servers' promises, one after the other.
 * @param upstreamUrl The 0 ms fake upstream.
 * @param dir A scratch folder for Gemini Proxy's KV file.
 */
export async function measurePromises(upstreamUrl: string, dir: string): Promise<PromiseCounts> {
  const count = async (kind: "bare" | "ours"): Promise<PromiseCount> => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-kv",
        "bench/promise_count.ts",
        kind,
        upstreamUrl,
        `${dir}/promises.kv`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) {
      throw new Error(
        `promise_count.ts ${kind} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
      );
    }
    return JSON.parse(text.split("\n").at(-1)!) as PromiseCount;
  };
  return { bare: await count("bare"), ours: await count("ours") };
}

/** The promises section: per request for both servers, then where Gemini Proxy makes them. */
export function renderPromises(counts: PromiseCounts, top = 12): string[] {
  const per = (c: PromiseCount) => (c.promises / c.requests).toFixed(1);
  return [
    "### Promises per request",
    "",
    "Every promise created while wrk drove the native route at 8 connections for 5 s, counted by",
    "V8's promise hook with the server running inside `bench/promise_count.ts`, divided by the",
    "requests served. Each promise is an allocation, and each `await` or `then` on one a job",
    "through the microtask queue: the CPU samples above charge that machinery to the runtime's",
    "native code, since it runs with none of our frames on the stack.",
    "",
    "| server | promises per request |",
    "|---|---|",
    `| bare passthrough | ${per(counts.bare)} |`,
    `| Gemini Proxy, production environment | ${per(counts.ours)} |`,
    "",
    "Where Gemini Proxy makes them (the function that made the promise, then its caller; one",
    "promise in 31 sampled):",
    "",
    "| made in | per request |",
    "|---|---|",
    ...counts.ours.sites.slice(0, top).map((s) =>
      `| ${s.site ? `\`${s.site.replaceAll("|", "\\|")}\`` : "(no frame)"} | ${
        s.perRequest.toFixed(1)
      } |`
    ),
    "",
  ];
}
