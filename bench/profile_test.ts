import { assert, assertEquals } from "../tests/support/assert.ts";
import { placeOf, renderVariants, sharesOf } from "./profile.ts";
import { ROOT } from "./_process.ts";
import type { Allocations } from "./_alloc.ts";
import type { Cost, CostTarget } from "./_costs.ts";
import { renderFirstChunk } from "./_first_chunk.ts";
import { renderPromises } from "./_promises.ts";
import { renderReading } from "./_reading.ts";
import { STEPS } from "./rss_steps.ts";
import { renderRssSteps } from "./_rss.ts";
import { type LoadMemory, renderLoadMemory } from "./_rss_load.ts";

Deno.test("profile: a sample counts for the innermost frame of our code, else the package or runtime", () => {
  const ours = `file://${ROOT}/core/proxy/stream_relay.ts:12:3`;
  const npm = "file:///root/.cache/deno/npm/registry.npmjs.org/hono/4.13.23/dist/hono.js:1:1";
  assertEquals(
    placeOf(["Builtin: LoadIC", ` ext:deno_fetch/26_fetch.js:2:6352`, ours]),
    "core/proxy/",
  );
  assertEquals(
    placeOf([npm, ours]),
    "core/proxy/",
    "a package called by our code is charged to it",
  );
  assertEquals(placeOf([npm, " ext:deno_http/00_serve.ts:1:1"]), "npm: hono");
  assertEquals(placeOf([" ext:deno_web/06_streams.js:1:1"]), "runtime JS: deno_web");
  assertEquals(
    placeOf(["/usr/lib/node_modules/deno/deno"]),
    "runtime native code (no JS frame: Rust, V8 C++, libc)",
  );
  assertEquals(placeOf([`file://${ROOT}/main.ts:1:1`]), "main.ts");
});

Deno.test("profile: samples are summed by place, garbage collection and compiling apart", () => {
  const code = [{ name: `file://${ROOT}/core/logs/log_writer.ts:1:1` }, { name: "libc.so.6" }];
  const { shares, total } = sharesOf({
    code,
    ticks: [{ vm: 0, s: [0, 0] }, { vm: 0, s: [0, 0, 1, 0] }, { vm: 1, s: [1, 0] }, {
      vm: 4,
      s: [1, 0],
    }],
  });
  assertEquals(total, 4);
  assertEquals(shares, [
    { place: "core/logs/", ticks: 2 },
    { place: "V8 garbage collector", ticks: 1 },
    { place: "V8 parser and compilers", ticks: 1 },
  ]);
});

Deno.test("profile: each variant is shown against the production environment, CPU and memory", () => {
  const cost = (
    target: CostTarget,
    cpuUs: number,
    route: "native" | "openai" = "native",
  ): Cost => ({
    target,
    route,
    cpuUs,
    upstreamCpuUs: 80,
    rps: 5000,
  });
  const costs = [
    cost("ours", 200),
    cost("ours", 150, "openai"),
    cost("keys", 230),
    cost("memory", 170),
  ];
  const alloc = (kb: number, live: number): Allocations => ({
    requests: 1000,
    bySite: new Map([["a x.ts", kb * 600_000], ["b y.ts", kb * 400_000]]),
    liveBytes: live,
  });
  const allocs = new Map<CostTarget, Allocations>([
    ["ours", alloc(66, 30e6)],
    ["keys", alloc(70.5, 52e6)],
    ["memory", alloc(60, 41e6)],
  ]);
  const lines = renderVariants(costs, allocs);
  assertEquals(lines.filter((l) => l.startsWith("| `")), [
    "| `a x.ts` | 39.60 KB | 42.30 KB | +2.70 KB |",
    "| `b y.ts` | 26.40 KB | 28.20 KB | +1.80 KB |",
  ]);
  const rows = lines.filter((l) => l.startsWith("| Gemini Proxy"));
  assertEquals(rows, [
    "| Gemini Proxy, production environment | 200 µs | - | 66.0 KB | - | 30.0 MB |",
    "| Gemini Proxy, 10,000 keys instead of 20 | 230 µs | +30 µs (+15%) | 70.5 KB | +4.5 KB | 52.0 MB |",
    "| Gemini Proxy, store in memory (no Deno KV at all) | 170 µs | -30 µs (-15%) | 60.0 KB | -6.0 KB | 41.0 MB |",
  ]);
});

Deno.test("profile: start-up memory shows what each part adds to the ones before", () => {
  const rows = renderRssSteps([
    { step: "Deno", rssBytes: 40e6, heapBytes: 2e6 },
    { step: "+ zod", rssBytes: 48.5e6, heapBytes: 5e6 },
  ]).filter((l) => l.startsWith("| Deno") || l.startsWith("| + zod"));
  assertEquals(rows, ["| Deno | 40.0 MB | - | 2.0 MB |", "| + zod | 48.5 MB | +8.5 MB | 5.0 MB |"]);
});

Deno.test("profile: promises per request for both servers, and where Gemini Proxy makes them", () => {
  const lines = renderPromises({
    bare: { requests: 1000, promises: 22_000, sites: [] },
    ours: {
      requests: 1000,
      promises: 66_400,
      sites: [
        { site: "serve (core/proxy/proxy_handler.ts) < a|b", perRequest: 2.14 },
        { site: "", perRequest: 1 },
      ],
    },
  });
  assertEquals(lines.filter((l) => / \d+\.\d \|$/.test(l)), [
    "| bare passthrough | 22.0 |",
    "| Gemini Proxy, production environment | 66.4 |",
    "| `serve (core/proxy/proxy_handler.ts) < a\\|b` | 2.1 |",
    "| (no frame) | 1.0 |",
  ]);
});

Deno.test("profile: the unmet targets are read from the run's own figures", () => {
  const cost = (target: CostTarget, cpuUs: number): Cost => ({
    target,
    route: "native",
    cpuUs,
    upstreamCpuUs: 80,
    rps: 1_000_000 / cpuUs,
  });
  const alloc = (sites: Record<string, number>, live: number): Allocations => ({
    requests: 1000,
    bySite: new Map(Object.entries(sites).map(([s, kb]) => [s, kb * 1_000_000])),
    liveBytes: live,
  });
  const lines = renderReading({
    costs: [
      cost("bare", 100),
      cost("floor", 120),
      cost("ours", 200),
      cost("keys", 240),
      cost("memory", 186),
    ],
    allocations: new Map([
      ["bare", alloc({ "a x": 20, "h headers": 1 }, 4e6)],
      ["ours", alloc({ "a x": 21, "h headers": 9, "b body": 5, "c y": 2 }, 15e6)],
      [
        "keys",
        alloc({ "a x": 21, "h headers": 9, "b body": 5, "c y": 2, "e encodePart": 4 }, 50e6),
      ],
    ]),
    samples: [
      { place: "runtime native code (no JS frame: Rust, V8 C++, libc)", bare: 7, ours: 54 },
      { place: "runtime JS: deno_fetch", bare: 20, ours: 31 },
      { place: "core/proxy/", bare: 0, ours: 3 },
      { place: "core/store/", bare: 0, ours: 4 },
    ],
    promises: {
      bare: { requests: 100, promises: 2200, sites: [] },
      ours: { requests: 100, promises: 6600, sites: [] },
    },
    rss: STEPS.map(([step], i) => ({ step, rssBytes: (40 + 5 * i) * 1e6, heapBytes: 1e6 })),
    loadMemory: [
      loadMemory("bare", {
        rss: 170,
        file: 38,
        anon: 132,
        heap: [72, 54, 16, 11],
        external: 3,
        rps: 8000,
      }),
      loadMemory("floor", {
        rss: 200,
        file: 41,
        anon: 159,
        heap: [95, 54, 38, 23],
        external: 6,
        rps: 5000,
      }),
      loadMemory("ours", {
        rss: 259,
        file: 47,
        anon: 212,
        heap: [142, 54, 83, 40],
        external: 7,
        rps: 3500,
      }),
    ],
    heldMemory: [
      loadMemory("bare", { rss: 193, file: 37, anon: 156, heap: [26, 11, 13, 13], external: 1 }),
      loadMemory("ours", { rss: 266, file: 46, anon: 220, heap: [101, 52, 44, 44], external: 5 }),
    ],
    firstChunk: [
      { target: "bare", route: "native", p50Ms: 2.27, cpuUs: 2632, streams: 57 },
      { target: "ours", route: "native", p50Ms: 3.11, cpuUs: 8421, streams: 57 },
      { target: "bare", route: "openai", p50Ms: 1.98, cpuUs: 2222, streams: 54 },
      { target: "ours", route: "openai", p50Ms: 1.9, cpuUs: 11765, streams: 51 },
    ],
  }).join("\n");
  for (
    const part of [
      "served 8,333 req/s against the bare passthrough's 10,000 (83%;",
      "at 256 connections 5,000 against 8,000\n  (63%;",
      "Gemini Proxy served 5,000 req/s,\n  60% of the floor's",
      "and 3,500,\n  70%, at 256",
      "200 µs of CPU per",
      "2.00x the bare passthrough's 100 µs",
      "spends 120 µs",
      "Of the 100 µs over the bare passthrough: 20 µs is",
      "14 µs is Deno KV",
      "about 66 µs",
      "7.0 to 54.0 samples",
      "of 27.0 to 92.0 in all",
      "20.0 to 31.0",
      "our own files\n  7.0",
      "66 promises per request against",
      "passthrough's 22.",
      "`h headers`, `b body`, `c y`",
      "240 µs against 200 µs per request\n  (+20%)",
      "4.0 KB more",
      "50.0 MB against 15.0 MB",
      "holds 45.0 MB",
      "proxy\n  70.0 MB",
      "zod adds 5.0 MB",
      "modules 5.0 MB and starting it 5.0 MB",
      "its RSS is 259.0 MB\n  against the bare passthrough's 170.0 MB (+89.0 MB;",
      "old generation\n  +67.0 MB committed (its objects +29.0 MB), the young\n  generation +0.0 MB",
      "code and other heap spaces\n  +3.0 MB, pages mapped from files\n  +9.0 MB, external memory +4.0 MB",
      "native\n  allocations +6.0 MB",
      "leaves 15.0 MB live against\n  4.0 MB",
      "open the RSS is 266.0 MB against 193.0 MB: the young generation\n  +41.0 MB, the old +31.0 MB, external memory\n  +4.0 MB and native allocations -15.0 MB.",
      "+0.84 ms (native) and -0.08 ms (OpenAI)",
      "spends 8.4 ms",
      "(OpenAI 11.8 ms)",
      "2.6 ms (2.2 ms)",
      "each of\n  the 20 chunks of a stream passes through",
    ]
  ) assert(lines.includes(part), `${part} in:\n${lines}`);
});

/** Memory under load for the reading's fixtures, in MB; heap is [total, new, old, old used]. */
function loadMemory(
  target: CostTarget,
  mb: { rss: number; file: number; anon: number; heap: number[]; external: number; rps?: number },
): LoadMemory {
  const [heapTotal, newSpace, oldSpace, oldUsed] = mb.heap.map((n) => n * 1e6) as [
    number,
    number,
    number,
    number,
  ];
  return {
    target,
    rps: mb.rps ?? 5000,
    rss: mb.rss * 1e6,
    file: mb.file * 1e6,
    anon: mb.anon * 1e6,
    heapTotal,
    heapUsed: oldUsed + 20e6,
    newSpace,
    oldSpace,
    oldUsed,
    external: mb.external * 1e6,
  };
}

Deno.test("profile: memory under load is split into files, heap generations, external and native", () => {
  const lines = renderLoadMemory([
    loadMemory("bare", { rss: 170, file: 38, anon: 132, heap: [72, 54, 16, 11], external: 3 }),
    loadMemory("ours", { rss: 259, file: 47, anon: 212, heap: [142, 54, 83, 40], external: 7 }),
  ], [
    {
      ...loadMemory("bare", { rss: 1, file: 1, anon: 1, heap: [0, 0, 0, 0], external: 0 }),
      rps: 1000,
    },
  ]);
  assertEquals(lines.filter((l) => l.startsWith("| streams completed")), [
    "| streams completed | 1,000 |",
  ]);
  assertEquals(lines.filter((l) => l.startsWith("| ")).slice(0, 11), [
    "| | bare passthrough (`bench/bare_proxy.ts`) | Gemini Proxy, production environment |",
    "| req/s while read | 5,000 | 5,000 |",
    "| RSS | 170.0 MB | 259.0 MB |",
    "| mapped from files (the runtime's binary, libraries) | 38.0 MB | 47.0 MB |",
    "| anonymous | 132.0 MB | 212.0 MB |",
    "| of which the JavaScript heap, committed | 72.0 MB | 142.0 MB |",
    "| - young generation | 54.0 MB | 54.0 MB |",
    "| - old generation (its objects take) | 16.0 MB (11.0 MB) | 83.0 MB (40.0 MB) |",
    "| - code and other spaces | 2.0 MB | 5.0 MB |",
    "| of which V8's external memory | 3.0 MB | 7.0 MB |",
    "| of which the runtime's native allocations (the rest) | 57.0 MB | 63.0 MB |",
  ]);
});

Deno.test("profile: the first chunk one stream at a time, added time and CPU per stream", () => {
  const rows = renderFirstChunk([
    { target: "bare", route: "native", p50Ms: 2.27, cpuUs: 2632, streams: 57 },
    { target: "ours", route: "native", p50Ms: 3.11, cpuUs: 8421, streams: 56 },
    { target: "bare", route: "openai", p50Ms: 1.98, cpuUs: 2222, streams: 54 },
    { target: "ours", route: "openai", p50Ms: 1.9, cpuUs: 11765, streams: 51 },
  ]).filter((l) => /^\| (native|openai) /.test(l));
  assertEquals(rows, [
    "| native | 2.27 ms | 3.11 ms | +0.84 ms | 2632 µs | 8421 µs | 57 / 56 |",
    "| openai | 1.98 ms | 1.90 ms | -0.08 ms | 2222 µs | 11765 µs | 54 / 51 |",
  ]);
});
