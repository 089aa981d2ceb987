/**
 * The report's section on invented model names, between markers so that
 * `deno task bench --only=invented_models` can replace it in a report it did not write.
 * @module
 */
import { int, mb, share, tableRow } from "./_format.ts";
import type { BenchResults, ModelFloodRow } from "./_results.ts";

/** Markers around the section. */
export const INVENTED_START = "<!-- invented-models:start -->";
/** End marker. */
export const INVENTED_END = "<!-- invented-models:end -->";

/** Bounds the section checks, from the issue that asked for it. */
const MAX_RSS_GROWTH_MB = 60;
const MAX_METRICS_GROWTH_LINES = 500;

/**
 * The section, markers included.
 * @param r Results holding the phase's figures.
 * @returns Markdown lines.
 */
export function inventedSection(r: BenchResults): string[] {
  const x = r.inventedModels;
  const out = [INVENTED_START, "", "## Invented model names", ""];
  if (!x) {
    out.push("Not measured in this run (`deno task bench --only=invented_models`).", "");
    return [...out, INVENTED_END];
  }
  const invented = x.rows.find((row) => row.label === "invented names");
  out.push(
    `Measured by \`${x.command}\` on ${x.startedAt} (code ${x.revision}). Gemini Proxy with ${
      int(x.keys)
    } keys (started through \`bench/proxy_env_file.ts\`, as in the scaling rows) takes ${
      int(x.requests)
    } generateContent requests, ${x.concurrency} in flight, from \`bench/model_flood.ts\` in its own`,
    "process, half on the native path (model in the path) and half on the OpenAI path (model in",
    "the body): first all for one real model, then each naming a well-formed model no other",
    "request names (the fake upstream answers those 404, as Google does). A warm-up comes first:",
    `${int(x.warmup.real)} requests for the real model and ${
      int(x.warmup.invented)
    } with invented names the floods never use, as the heap`,
    "first grows to its working size under any load. RSS and the line count of /metrics are read",
    "after three seconds of rest, after the warm-up and after each flood. The real-model row shows",
    "what the same load costs with no invented name at all.",
    "",
    "| flood | requests | statuses | req/s | RSS before | RSS after | RSS growth | /metrics lines before | after | other CPU |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...x.rows.map(row),
    "",
  );
  if (invented) {
    const rss = invented.rssAfterMb - invented.rssBeforeMb;
    const lines = invented.metricsLinesAfter - invented.metricsLinesBefore;
    const met = rss < MAX_RSS_GROWTH_MB && lines < MAX_METRICS_GROWTH_LINES;
    out.push(
      `Target: ${
        int(x.requests)
      } distinct invented names grow RSS by under ${MAX_RSS_GROWTH_MB} MB ` +
        `and /metrics by under ${MAX_METRICS_GROWTH_LINES} lines: ${met ? "met" : "**not met**"} (${
          rss >= 0 ? "+" : ""
        }${rss.toFixed(0)} MB, ${lines >= 0 ? "+" : ""}${lines} lines).`,
      "",
    );
  }
  return [...out, INVENTED_END];
}

function row(r: ModelFloodRow): string {
  const statuses = Object.entries(r.flood.statuses).map(([s, n]) => `${s}: ${int(n)}`).join(", ");
  return tableRow([
    r.label,
    int(r.flood.sent),
    statuses + (r.flood.failed ? `, no answer: ${r.flood.failed}` : ""),
    int(r.flood.rps),
    mb(r.rssBeforeMb),
    mb(r.rssAfterMb),
    `${r.rssAfterMb >= r.rssBeforeMb ? "+" : ""}${mb(r.rssAfterMb - r.rssBeforeMb)}`,
    int(r.metricsLinesBefore),
    int(r.metricsLinesAfter),
    share(r.foreignCpu),
  ]);
}

/**
 * Puts the section into a report: in place of an earlier one, else before `## Memory` (or at the
 * end).
 * @param report The report's text.
 * @param section The section's lines.
 * @returns The new text.
 */
export function spliceSection(report: string, section: string[]): string {
  const text = section.join("\n");
  const start = report.indexOf(INVENTED_START);
  const end = report.indexOf(INVENTED_END);
  if (start >= 0 && end > start) {
    return report.slice(0, start) + text + report.slice(end + INVENTED_END.length);
  }
  const memory = report.indexOf("\n## Memory");
  if (memory >= 0) return `${report.slice(0, memory)}\n${text}\n${report.slice(memory)}`;
  return `${report.trimEnd()}\n\n${text}\n`;
}
