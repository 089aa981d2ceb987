/**
 * The report's sections about key picking, request logs, held streams and soaks.
 * @module
 */
import { int, mb, mean, ms, share, signed, tableRow } from "./_format.ts";
import type { BenchResults, LoggedCheck, ScaleCell, SoakResult } from "./_results.ts";
import { TARGET_LABELS } from "./_targets.ts";

/** Stats answers this slow or slower miss issue 5's target. */
export const STATS_TARGET_MS = 100;

/**
 * The key-pick micro benchmark as a table.
 * @param r The run's results.
 * @returns Markdown lines (empty when not measured).
 */
export function pickKeyTable(r: BenchResults): string[] {
  if (!r.pickKey) return [];
  const rows = [
    "Key pick alone (`benchPickKey()` in `bench/pick_key.ts`, run inside the harness): ns per",
    "`pool.pick()` + `countRequest()`, best of three runs of 300,000 picks, a tenth of the pool",
    `cooling down (other CPU ${share(r.pickKey.foreignCpu)}).`,
    "",
    "| strategy | 10 keys (ns/pick) | 10,000 keys (ns/pick) | ratio |",
    "|---|---|---|---|",
  ];
  for (const strategy of ["round_robin", "least_used", "weighted"]) {
    const small = r.pickKey.rows.find((x) => x.strategy === strategy && x.keys === 10);
    const large = r.pickKey.rows.find((x) => x.strategy === strategy && x.keys === 10_000);
    if (!small || !large) continue;
    rows.push(tableRow([
      strategy,
      int(small.nsPerPick),
      int(large.nsPerPick),
      `${(large.nsPerPick / small.nsPerPick).toFixed(2)}x`,
    ]));
  }
  return rows;
}

/**
 * The log-volume row of the scaling table (same columns).
 * @param r The run's results.
 * @returns Table rows.
 */
export function logVolumeRows(r: BenchResults): string[] {
  const [empty, seeded] = r.logVolume;
  if (!empty || !seeded) {
    return [
      "| empty store vs 100,000 stored logs | not measured in this run (`--only=logvolume`) | | | | | | | | |",
    ];
  }
  return [empty, seeded].map((c) =>
    tableRow([
      c.records === 0 ? "empty store" : `${int(c.records)} stored logs`,
      c.rounds.map((w) => int(w.rps)).join(" / "),
      int(mean(c.rounds)),
      c === empty ? "baseline" : `${signed((mean(c.rounds) / mean(empty.rounds) - 1) * 100, 1)}%`,
      c.rounds.map((w) => ms(w.p99Ms)).join(" / "),
      `${(c.startupMs / 1000).toFixed(1)} s`,
      c.peakMb === null ? "-" : mb(c.peakMb),
      `${c.dropped} logs dropped`,
      "-",
      c.foreignCpu.map(share).join(" / "),
    ])
  );
}

/**
 * What the seeded store holds, for the scaling and stats text.
 * @param r The run's results.
 * @returns Markdown lines.
 */
export function seedText(r: BenchResults): string[] {
  const s = r.seed;
  if (!s) return [];
  return [
    `The seeded store (\`bench/_seed_logs.ts\`) holds ${int(s.records)} log records spread over`,
    `the last ${s.days} days, written through the store's own \`insertLogs\` in batches of 1,000`,
    "with their aggregate counters, as the proxy's log writer writes them: " +
    `${s.keys} keys x ${s.models} models x ${s.tokens} tokens drawn independently, 3% errors, 2%`,
    "failovers, latencies 150 ms to 3 s. Counters: " +
    `${int(s.counters.d)} day, ${int(s.counters.h)} hour and ${
      int(s.counters.m)
    } minute KV entries`,
    "(minute counters only for the last 2 days, as the store's pruning leaves them). Seeding took",
    `${(s.seedMs / 1000).toFixed(1)} s; each measurement starts from a copy of that file.`,
  ];
}

/**
 * The stats query table.
 * @param r The run's results.
 * @returns Markdown lines.
 */
export function statsSection(r: BenchResults): string[] {
  if (!r.stats) return ["Not measured in this run (`deno task bench --only=stats`)."];
  const rows = [
    "`GET /admin/api/stats?range=R&group=G` on a proxy whose store holds the seeded logs, nothing",
    "else running against it: one untimed first call, then 20 calls in a row (fewer, at least 10,",
    "when they take over 6 s: the calls column). HTTP = round trip measured by the harness;",
    "queryMs = the server's own figure (store read + series building).",
    `Target (issue 5): under ${STATS_TARGET_MS} ms for 30 days on 100,000 records. Other CPU ${
      share(r.stats.foreignCpu)
    }.`,
    "",
    "| range | group | calls | HTTP p50 | HTTP max | queryMs p50 | queryMs max | first call (HTTP) | requests counted | series x buckets |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const x of r.stats.rows) {
    rows.push(tableRow([
      x.range,
      x.group,
      String(x.calls),
      ms(x.httpP50Ms),
      ms(x.httpMaxMs),
      ms(x.queryP50Ms),
      ms(x.queryMaxMs),
      ms(x.firstMs),
      int(x.requests),
      `${x.series} x ${x.buckets}`,
    ]));
  }
  return rows;
}

/**
 * The served-vs-logged section.
 * @param r The run's results.
 * @returns Markdown lines.
 */
export function loggedSection(r: BenchResults): string[] {
  const x = r.logged;
  if (!x) return ["Not measured in this run (`deno task bench --only=logged`)."];
  return [
    `Exactly ${
      int(x.load.sent)
    } native generateContent requests, 32 in flight, from \`bench/fixed_load.ts\``,
    "(a client that never abandons a request, unlike wrk at the end of its time) to a proxy on an",
    "empty store; then /healthz polled until the log queue is empty; then the records counted",
    "three ways: `gemini_proxy_logs_written_total` on /metrics, paging `GET /admin/api/logs`",
    `(500 a page, with the cursor), and the log records in the KV file once the proxy had`,
    `stopped. The load ran at ${int(x.load.rps)} req/s (p50 ${ms(x.load.p50Ms)}, p99 ${
      ms(x.load.p99Ms)
    }; other CPU ${share(x.foreignCpu)}).`,
    "",
    ...checkTable([[`${int(x.load.sent)} requests`, x.check]]),
  ];
}

/**
 * A served-vs-logged table for one or more checks.
 * @param checks Label and check.
 * @returns Markdown lines.
 */
export function checkTable(checks: [string, LoggedCheck][]): string[] {
  const rows = [
    "| run | served (2xx, client) | other status | no response | requests on /metrics | logs written (/metrics) | listed by admin API | records in KV file | dropped (/metrics) | queue drained in | served == logged |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const n = (v: number | null) => v === null ? "-" : int(v);
  for (const [label, c] of checks) {
    rows.push(tableRow([
      label,
      int(c.served),
      int(c.badStatus),
      int(c.failed),
      n(c.metricRequests),
      n(c.metricWritten),
      n(c.apiCount),
      n(c.kvCount),
      n(c.metricDropped),
      `${int(c.flushMs)} ms`,
      c.ok ? "yes" : "**NO**",
    ]));
  }
  return rows;
}

/**
 * The held-streams section.
 * @param r The run's results.
 * @returns Markdown lines.
 */
export function holdSection(r: BenchResults): string[] {
  const h = r.hold;
  if (!h) return ["Not measured in this run (`deno task bench --only=hold`)."];
  const n = (v: number | null) => v === null ? "-" : int(v);
  const m = (v: number | null) => v === null ? "-" : mb(v);
  const rows = [
    `${int(h.streams)} streamGenerateContent requests opened at once (native route,`,
    "`bench/stream_client.ts` in its own process, one connection each); the fake upstream sends",
    `${h.chunks} chunks ${h.chunkDelayMs} ms apart, so every stream stays open about ${
      ((h.chunks - 1) * h.chunkDelayMs / 1000).toFixed(1)
    } s. The same`,
    "streams go straight to the upstream and through the bare Deno proxy first: their first-chunk",
    "times show what opening that many connections at once costs the client and the upstream on",
    "this machine. Each server had 500 warm-up requests first; its RSS and open descriptors",
    "(`/proc/<pid>/fd`) are sampled every 250 ms while the streams are open.",
    "",
    "| target | streams complete | failed | first chunk p50 | first chunk p99 | whole stream p50 | RSS while open (max) | peak RSS | fds while open (max) | other CPU |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const all = [...(h.baselines ?? []), { target: "ours" as const, ...h }];
  for (const b of all) {
    const x = b.result;
    rows.push(tableRow([
      TARGET_LABELS[b.target],
      `${int(x.streams)} of ${int(h.streams)}`,
      `${x.errors}${x.firstError ? ` (${x.firstError.replaceAll("|", "/").slice(0, 80)})` : ""}`,
      ms(x.ttfcP50Ms),
      ms(x.ttfcP99Ms),
      ms(x.totalP50Ms),
      m(b.rssOpenMb),
      m(b.peakMb),
      n(b.fdsOpen),
      share(b.foreignCpu),
    ]));
  }
  rows.push(
    "",
    `Gemini Proxy before the streams (after its warm-up and a second of rest): RSS ${
      m(h.rssBeforeMb)
    }, ${n(h.fdsBefore)} descriptors. A second after the last stream ended: RSS ${
      m(h.rssAfterMb)
    }, ${n(h.fdsAfter)} descriptors` + (h.upstreamSocketsAfter == null
      ? "."
      : `, ${int(h.upstreamSocketsAfter)} of them sockets to the upstream: idle keep-alive ` +
        "connections the proxy's `fetch` pool keeps for reuse, not leaked descriptors."),
    `Served == logged: ${
      h.check.ok
        ? `yes (${n(h.check.kvCount)} records for ${
          int(h.check.served + h.check.badStatus)
        } answered requests, warm-up included; ${n(h.check.metricDropped)} dropped)`
        : `**NO** (${n(h.check.kvCount)} records for ${
          int(h.check.served + h.check.badStatus)
        } answered, ${n(h.check.metricDropped)} dropped)`
    }.`,
  );
  return rows;
}

/**
 * The soak section: one summary row per soak, then each soak's samples.
 * @param r The run's results.
 * @returns Markdown lines.
 */
export function soakSection(r: BenchResults): string[] {
  if (r.soaks.length === 0) {
    return [
      "Not measured in this run. `deno task bench --only=soak --soak=300` runs the 5-minute soak.",
    ];
  }
  const out = [
    "Gemini Proxy, native generateContent, upstream delay 0 ms, driven by `bench/fixed_load.ts`",
    "(32 requests in flight on keep-alive connections, each worker sending its next request as",
    "soon as the last one answered, for the soak's length; a request in flight at the end is",
    "still awaited, so served == logged is exact). 500 warm-up requests first (counted and logged",
    "too). RSS and open descriptors sampled every 5 s; before = after the warm-up and a second of",
    "rest, after = a second after the load ended. Early and late = mean RSS over 20-40% and over",
    "80-100% of the run. `deno task bench --only=soak --soak=300` runs the 5-minute one.",
    "",
    "| soak | command | req/s | p99 | RSS before | RSS early / late | RSS max | RSS after | fds before / max during / after | served | logged (KV) | dropped | served == logged | other CPU |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of r.soaks) {
    const { early, late } = soakWindows(s);
    const fdsDuring = s.samples.map((x) => x.fds ?? 0);
    const c = s.check;
    out.push(tableRow([
      `${s.seconds} s, ${s.connections} in flight`,
      `\`${s.command}\` (${s.startedAt.slice(0, 16).replace("T", " ")} UTC)`,
      int(s.load.rps),
      ms(s.load.p99Ms),
      s.before.rssMb === null ? "-" : mb(s.before.rssMb),
      Number.isNaN(early + late)
        ? "- (too short)"
        : `${mb(early)} / ${mb(late)} (${signed((late / early - 1) * 100, 1)}%)`,
      mb(Math.max(...s.samples.map((x) => x.rssMb))),
      s.after.rssMb === null ? "-" : mb(s.after.rssMb),
      `${s.before.fds ?? "-"} / ${fdsDuring.length ? Math.max(...fdsDuring) : "-"} / ${
        s.after.fds ?? "-"
      }` + (s.after.upstreamSockets == null
        ? ""
        : ` (to the upstream: ${s.before.upstreamSockets ?? "-"} / ${s.after.upstreamSockets})`),
      int(c.served + c.badStatus),
      c.kvCount === null ? "-" : int(c.kvCount),
      c.metricDropped === null ? "-" : int(c.metricDropped),
      c.ok ? "yes" : "**NO**",
      share(s.foreignCpu),
    ]));
  }
  for (const s of r.soaks) {
    out.push(
      "",
      `Samples of the ${s.seconds} s soak:`,
      "",
      samplesLine(s),
    );
  }
  return out;
}

/**
 * Mean RSS over 20-40% and over 80-100% of a soak: single samples are noisy (GC, allocator), and
 * the heap needs a moment to reach its working size.
 * @param s A soak.
 * @returns Both means, MB.
 */
export function soakWindows(s: SoakResult): { early: number; late: number } {
  const window = (from: number, to: number) => {
    const inside = s.samples.filter((x) => x.atS >= from * s.seconds && x.atS <= to * s.seconds);
    // NaN when a run is too short to have a sample in the window.
    return inside.reduce((sum, x) => sum + x.rssMb, 0) / inside.length;
  };
  return { early: window(0.2, 0.4), late: window(0.8, 1.01) };
}

function samplesLine(s: SoakResult): string {
  // The last sample is taken as the load ends, after the client's connections may have closed.
  const during = s.samples.slice(0, -1);
  const last = s.samples.at(-1);
  const fds = [...new Set(during.map((x) => x.fds))];
  return `RSS (MB) every 5 s: ${during.map((x) => x.rssMb.toFixed(0)).join(", ")}; ${
    last ? `${last.rssMb.toFixed(0)} as the load ended` : ""
  }. Open descriptors: ${
    fds.length === 1
      ? `${fds[0] ?? "-"} at every sample`
      : during.map((x) => x.fds ?? "-").join(", ")
  }${last ? `; ${last.fds ?? "-"} as the load ended` : ""}.`;
}

/**
 * A scaling row's Deno KV writes: mutations per request and commits per 1,000 requests.
 * @param s The row.
 */
export function kvWrites(s: ScaleCell): string {
  const w = s.kvWrites;
  if (!w || w.requests === 0) return "-";
  return `${(w.mutations / w.requests).toFixed(2)} mutations per request, ` +
    `${((1000 * w.commits) / w.requests).toFixed(1)} commits per 1,000`;
}
