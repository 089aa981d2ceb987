/**
 * The targets of issues 5, 6, 10 and 16, judged against one run's figures.
 * @module
 */
import { cell, int, mb, mean, ms, pct, signed, stream, times, v } from "./_format.ts";
import { kvWrites, soakWindows, STATS_TARGET_MS } from "./_report_logs.ts";
import type { BenchResults, HoldBaseline, LoggedCheck } from "./_results.ts";

/**
 * The issue's targets, each with what this run measured and whether it is met.
 * @param r The run's results.
 * @returns Markdown table lines.
 */
export function targetsTable(r: BenchResults): string[] {
  const rows = ["| target | measured | verdict |", "|---|---|---|"];
  const row = (target: string, measured: string, verdict: string) =>
    rows.push(`| ${target} | ${measured} | ${verdict} |`);

  const through: string[] = [];
  const p99: string[] = [];
  let throughOk: boolean | null = null;
  let p99Ok: boolean | null = null;
  for (const delay of r.delays) {
    const ours = cell(r, delay, "native", "ours", 32);
    const bare = cell(r, delay, "native", "bare", 32);
    if (!ours || !bare) continue;
    const t = ours.wrk.rps / bare.wrk.rps;
    const p = ours.wrk.p99Ms / bare.wrk.p99Ms;
    through.push(`${pct(t)} at ${delay} ms (${int(ours.wrk.rps)} vs ${int(bare.wrk.rps)} req/s)`);
    p99.push(`${times(p)} at ${delay} ms (${ms(ours.wrk.p99Ms)} vs ${ms(bare.wrk.p99Ms)})`);
    throughOk = (throughOk ?? true) && t >= 0.9;
    p99Ok = (p99Ok ?? true) && p <= 1.2;
  }
  row(
    "Throughput at 32 connections >= 90% of bare proxy (native)",
    through.join("; "),
    v(throughOk),
  );
  row("p99 at 32 connections <= 1.2x bare proxy's (native)", p99.join("; "), v(p99Ok));

  const peer: string[] = [];
  let peerOk: boolean | null = null;
  // With an upstream delay the upstream caps both near connections / delay, so a 10x ratio can
  // only show at 0 ms; the other delays are in the ratios table.
  for (const delay of r.delays.filter((d) => d === 0)) {
    const ours = cell(r, delay, "openai", "ours", 32);
    const portkey = cell(r, delay, "openai", "portkey", 32);
    if (!ours || !portkey) continue;
    const t = ours.wrk.rps / portkey.wrk.rps;
    const bare = cell(r, delay, "openai", "bare", 32);
    // What 10x asks for in req/s, against the most a Deno proxy served here (the bare one).
    const asked = bare && 10 * portkey.wrk.rps > bare.wrk.rps
      ? `; 10x would be ${int(10 * portkey.wrk.rps)} req/s, above the bare proxy's ` +
        `${int(bare.wrk.rps)}`
      : "";
    peer.push(
      `${times(t)} at ${delay} ms (${int(ours.wrk.rps)} vs ${int(portkey.wrk.rps)} req/s${asked})`,
    );
    peerOk = (peerOk ?? true) && t >= 10;
  }
  row(
    ">= 10x Portkey's throughput (OpenAI route, 32 connections)",
    peer.join("; ") || "-",
    v(peerOk),
  );

  const ttfc: string[] = [];
  const gaps: string[] = [];
  let ttfcOk: boolean | null = null;
  let gapsOk: boolean | null = null;
  for (const delay of r.delays) {
    for (const route of ["native", "openai"] as const) {
      const ours = stream(r, delay, route, "ours");
      const bare = stream(r, delay, route, "bare");
      if (!ours || !bare) continue;
      const d = ours.result.ttfcP50Ms - bare.result.ttfcP50Ms;
      ttfc.push(`${signed(d)} ms at ${delay} ms, ${route}`);
      ttfcOk = (ttfcOk ?? true) && d <= 1;
      const g = ours.result.gapP99Ms - bare.result.gapP99Ms;
      gaps.push(
        `gap p99 ${ms(ours.result.gapP99Ms)} vs ${ms(bare.result.gapP99Ms)} at ${delay} ms, ` +
          `${route}; ${ours.result.errors} incomplete streams`,
      );
      gapsOk = (gapsOk ?? true) && g <= 1 && ours.result.errors === 0;
    }
  }
  row(
    "Time to first streamed chunk within 1 ms of the bare floor (p50)",
    ttfc.join("; "),
    v(ttfcOk),
  );
  row(
    "No chunk delayed (every stream complete, gap p99 within 1 ms of the bare floor's)",
    gaps.join("; "),
    v(gapsOk),
  );

  const at256 = r.cells.filter((c) => c.target === "ours" && c.connections === 256);
  const peak = Math.max(...at256.map((c) => c.peakMb ?? 0));
  row(
    "Proxy RSS under 150 MB at 256 connections",
    at256.length ? `peak ${mb(peak)}${r.peakPerCell ? "" : " (process lifetime peak)"}` : "-",
    v(at256.length ? peak < 150 : null),
  );
  sideBySideRows(r, row);
  const soak = r.soaks.at(-1);
  if (soak && soak.samples.length >= 2) {
    const { early, late } = soakWindows(soak);
    const growth = late / early - 1;
    const max = Math.max(...soak.samples.map((x) => x.rssMb));
    row(
      `RSS flat over a ${soak.seconds} s soak at ${soak.connections} in flight (late vs early ` +
        "mean within 10%)",
      `mean ${mb(early)} at ${int(0.2 * soak.seconds)}-${int(0.4 * soak.seconds)} s, ${
        mb(late)
      } at ${int(0.8 * soak.seconds)}-${int(soak.seconds)} s (${signed(growth * 100, 1)}%); ` +
        `max ${mb(max)}; ${mbOr(soak.before.rssMb)} before, ${mbOr(soak.after.rssMb)} after`,
      Number.isNaN(growth)
        ? "not measured (too short)"
        : soak.seconds < 300
        ? `${v(Math.abs(growth) <= 0.1)} (shorter than 5 minutes)`
        : v(Math.abs(growth) <= 0.1),
    );
    const fdsBefore = soak.before.fds;
    const fdsAfter = soak.after.fds;
    row(
      `No file descriptor leak over the ${soak.seconds} s soak (after within 5 of before)`,
      `${fdsBefore ?? "-"} before, ${fdsAfter ?? "-"} after, at most ${
        Math.max(...soak.samples.map((x) => x.fds ?? 0))
      } during`,
      v(fdsBefore === null || fdsAfter === null ? null : fdsAfter - fdsBefore <= 5),
    );
    row(
      `Requests served == logs stored at the end of the ${soak.seconds} s soak`,
      checkText(soak.check),
      v(soak.check.ok),
    );
  } else {
    row(
      "RSS flat over a 5-minute run",
      "not measured in this run (`deno task bench --only=soak --soak=300`)",
      "not measured",
    );
  }
  if (r.hold) {
    const h = r.hold;
    row(
      `${int(h.streams)} concurrent streams held open: all complete, every one logged`,
      `${int(h.result.streams)} of ${int(h.streams)} complete, first chunk p50 ${
        ms(h.result.ttfcP50Ms)
      } p99 ${ms(h.result.ttfcP99Ms)}${baselineText(h.baselines ?? [])}; RSS ${
        mbOr(h.rssOpenMb)
      } while open (peak ${mbOr(h.peakMb)}), ${h.fdsOpen ?? "-"} fds; ${checkText(h.check)}`,
      v(h.result.streams === h.streams && h.check.ok),
    );
  }

  scalingRows(r, row);
  idleReadsRow(r, row);
  const [empty, seeded] = r.logVolume;
  if (empty && seeded) {
    const d = mean(seeded.rounds) / mean(empty.rounds) - 1;
    row(
      `Log volume changes throughput by < 10% (empty store vs ${int(seeded.records)} logs)`,
      `${signed(d * 100, 1)}% (${int(mean(empty.rounds))} vs ${int(mean(seeded.rounds))} req/s)`,
      v(Math.abs(d) < 0.1),
    );
  } else {
    row(
      "Log volume changes throughput by < 10% (empty vs 100,000 logs)",
      "not measured in this run (`--only=logvolume`)",
      "not measured",
    );
  }
  const stats30 = r.stats?.rows.filter((x) => x.range === "30d") ?? [];
  if (stats30.length > 0 && r.seed) {
    const worst = Math.max(...stats30.map((x) => x.httpP50Ms));
    row(
      `Stats for 30 days answer in under ${STATS_TARGET_MS} ms on ${int(r.seed.records)} records ` +
        "(median HTTP round trip)",
      stats30.map((x) =>
        `group=${x.group}: p50 ${ms(x.httpP50Ms)}, max ${ms(x.httpMaxMs)} (queryMs p50 ${
          ms(x.queryP50Ms)
        })`
      ).join("; "),
      v(worst < STATS_TARGET_MS),
    );
  }
  if (r.logged) {
    row(
      `After ${int(r.logged.load.sent)} requests, requests served == log records stored`,
      checkText(r.logged.check),
      v(r.logged.check.ok),
    );
  }
  return rows;
}

function mbOr(n: number | null): string {
  return n === null ? "-" : mb(n);
}

function checkText(c: LoggedCheck): string {
  const n = (x: number | null) => x === null ? "-" : int(x);
  return `served ${int(c.served)}` + (c.badStatus ? ` (+${int(c.badStatus)} non-2xx)` : "") +
    (c.failed ? `, ${int(c.failed)} without response` : "") + `; logged ${n(c.kvCount)} in KV` +
    (c.apiCount === null ? "" : `, ${n(c.apiCount)} via the admin API`) +
    `, ${n(c.metricWritten)} written per /metrics; ${n(c.metricDropped)} dropped`;
}

function baselineText(baselines: HoldBaseline[]): string {
  if (baselines.length === 0) return "";
  return ` (${
    baselines.map((b) =>
      `${b.target === "bare" ? "bare proxy" : "upstream direct"} p50 ${
        ms(b.result.ttfcP50Ms)
      } p99 ${ms(b.result.ttfcP99Ms)}`
    ).join(", ")
  })`;
}

type Row = (target: string, measured: string, verdict: string) => void;

/** 10 vs 10,000 keys: throughput within 5%, start-up under 1 s, idle CPU under 1% of a core. */
function scalingRows(r: BenchResults, row: Row): void {
  const [small, large] = r.scaling;
  if (!small || !large) {
    row("10 vs 10,000 keys (throughput, start-up, idle CPU)", "not measured in this run", "-");
    return;
  }
  const d = mean(large.rounds) / mean(small.rounds) - 1;
  row(
    `Key pool size changes throughput by < 5% (${int(small.keys)} vs ${int(large.keys)} keys)`,
    `${signed(d * 100, 1)}% (${int(mean(small.rounds))} vs ${int(mean(large.rounds))} req/s)` +
      (small.kvWrites?.requests && large.kvWrites?.requests
        ? `; Deno KV writes: ${kvWrites(small)} with ${int(small.keys)} keys, ${
          kvWrites(large)
        } with ${int(large.keys)}`
        : ""),
    v(Math.abs(d) < 0.05),
  );
  row(
    `Start-up with ${int(large.keys)} keys under 1 s (fresh store: keys imported and sealed)`,
    `${(large.startupMs / 1000).toFixed(2)} s (${int(small.keys)} keys: ${
      (small.startupMs / 1000).toFixed(2)
    } s)`,
    v(large.startupMs < 1000),
  );
  const idle = large.settledIdleCpuPct ?? null;
  const cpu = (c: typeof large) =>
    `${c.settledIdleCpuPct?.toFixed(1) ?? "-"}% (${c.idleCpuPct?.toFixed(0) ?? "-"}% in the 3 s ` +
    `right after load; logs and counters stored ${
      ((c.drainMs ?? 0) / 1000).toFixed(1)
    } s after load)`;
  row(
    `Idle CPU with ${int(large.keys)} keys under 1% of a core (nothing queued, no request)`,
    idle === null
      ? "not measured"
      : `${int(large.keys)} keys: ${cpu(large)}; ${int(small.keys)} keys: ${cpu(small)}`,
    v(idle === null ? null : idle < 1),
  );
}

/** Zero store reads while nothing changes, counted on the proxy's KV handle. */
function idleReadsRow(r: BenchResults, row: Row): void {
  const idle = r.idleReads;
  if (!idle) {
    row(
      "Zero store reads while nothing changes",
      "not measured in this run (`--only=idle_reads`)",
      "not measured",
    );
    return;
  }
  const c = idle.counts;
  row(
    "Zero store reads while nothing changes (idle minute, production env on KV)",
    `${int(idle.perMinute)} reads per idle minute (${int(idle.reads)} in ${idle.windowS} s: get ${
      int(c.get)
    }, getMany ${int(c.getMany)}, list ${int(c.list)}, watch ${int(c.watch)})`,
    v(idle.reads === 0),
  );
}

/**
 * The hot-path targets measured against the bare passthrough in the same run: throughput at 256
 * connections, RSS at 256 connections and with 1,000 streams held open.
 */
function sideBySideRows(r: BenchResults, row: Row): void {
  const through: string[] = [];
  let throughOk: boolean | null = null;
  for (const delay of r.delays) {
    const ours = cell(r, delay, "native", "ours", 256);
    const bare = cell(r, delay, "native", "bare", 256);
    if (!ours || !bare) continue;
    const t = ours.wrk.rps / bare.wrk.rps;
    through.push(`${pct(t)} at ${delay} ms (${int(ours.wrk.rps)} vs ${int(bare.wrk.rps)} req/s)`);
    throughOk = (throughOk ?? true) && t >= 0.8;
  }
  row(
    "Throughput at 256 connections >= 80% of bare proxy (native)",
    through.join("; ") || "-",
    v(throughOk),
  );
  const peakAt = (target: "ours" | "bare") =>
    Math.max(
      0,
      ...r.cells.filter((c) => c.target === target && c.connections === 256)
        .map((c) => c.peakMb ?? 0),
    );
  const [ours, bare] = [peakAt("ours"), peakAt("bare")];
  row(
    "RSS at 256 connections within 1.2x of the bare proxy's (peaks, same run)",
    ours && bare ? `${times(ours / bare)} (${mb(ours)} vs ${mb(bare)})${startupRss(r)}` : "-",
    v(ours && bare ? ours / bare <= 1.2 : null),
  );
  const held = r.hold;
  const bareHeld = held?.baselines?.find((b) => b.target === "bare")?.rssOpenMb ?? null;
  const oursHeld = held?.rssOpenMb ?? null;
  row(
    `RSS with ${int(held?.streams ?? 1000)} streams held open within 1.3x of the bare proxy's`,
    oursHeld && bareHeld
      ? `${times(oursHeld / bareHeld)} (${mb(oursHeld)} vs ${mb(bareHeld)})${startupRss(r)}`
      : "-",
    v(oursHeld && bareHeld ? oursHeld / bareHeld <= 1.3 : null),
  );
}

/** Both servers' RSS right after start-up, the part of the gap that load does not add. */
function startupRss(r: BenchResults): string {
  const at = (target: "ours" | "bare") => {
    const sizes = r.idle.filter((i) => i.target === target).map((i) => i.rssMb);
    return sizes.length > 0 ? Math.min(...sizes) : null;
  };
  const [ours, bare] = [at("ours"), at("bare")];
  return ours && bare ? `; right after start-up ${mb(ours)} vs ${mb(bare)}` : "";
}
