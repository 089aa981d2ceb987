/**
 * A time-series chart drawn by uPlot in the browser (nothing is drawn on the server: the figure
 * keeps its caption and a text summary for screen readers). Colors come from the page's CSS
 * variables, so the chart follows light and dark mode, and it resizes with its container.
 * @module
 */
import uPlot from "uplot";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { formatUsdAxis } from "./usd.ts";

/** One line of a chart. */
export interface ChartSeries {
  /** Legend label. */
  label: string;
  /** One value per x; null leaves a gap. */
  values: (number | null)[];
  /** CSS variable holding the color, e.g. `--c-1`. */
  color: string;
}

/** Props of {@linkcode Chart}. */
export interface ChartProps {
  /** Stable id, also set as `data-chart` (tests look for it). */
  id: string;
  /** Caption. */
  title: string;
  /** Bucket start times, epoch ms. */
  x: number[];
  /** Lines. */
  series: ChartSeries[];
  /** Text summary read by screen readers. */
  summary: string;
  /** Height in px (default 200). */
  height?: number;
  /**
   * Formats y values in the axis and legend: `" ms"` reads as durations (`850 ms`, `2.5 s`),
   * `"usd"` as µUSD amounts in dollars (`$0.0015`, `$2.5`); any other text is appended.
   */
  unit?: string;
  /** Shown under the chart, inside the figure. */
  children?: ComponentChildren;
}

/**
 * A chart figure.
 * @param props Data, caption and summary.
 */
export function Chart(props: ChartProps) {
  const area = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // A new set of lines or a new unit (a metric switched from tokens to USD) builds a new plot.
  const shape = [...props.series.map((s) => s.label), props.unit ?? ""].join("\u0000");
  const data = [
    props.x.map((t) => t / 1000),
    ...props.series.map((s) => s.values),
  ] as uPlot.AlignedData;
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = area.current;
    if (!el) return;
    function build() {
      plot.current?.destroy();
      plot.current = new uPlot(options(el!, props), latest.current, el!);
    }
    build();
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: el.clientWidth, height: props.height ?? 200 });
    });
    resize.observe(el);
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    scheme.addEventListener("change", build);
    return () => {
      resize.disconnect();
      scheme.removeEventListener("change", build);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const sum = props.series[0]?.values.reduce<number>((a, v) => a + (v ?? 0), 0) ?? 0;
  return (
    <figure class="card" data-chart={props.id} data-sum={String(sum)}>
      <figcaption>{props.title}</figcaption>
      <div ref={area} class="chart-area" role="img" aria-label={props.summary} />
      {props.children}
    </figure>
  );
}

function options(el: HTMLElement, props: ChartProps): uPlot.Options {
  const css = getComputedStyle(el);
  const color = (name: string) => css.getPropertyValue(name).trim() || "#888";
  const axis: uPlot.Axis = {
    stroke: color("--muted"),
    grid: { stroke: color("--grid"), width: 1 },
    ticks: { stroke: color("--grid"), width: 1 },
    font: AXIS_FONT,
  };
  const format = formatter(props.unit ?? "");
  return {
    width: el.clientWidth || 400,
    height: props.height ?? 200,
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true } },
    // The console speaks UTC everywhere (tables, details, exports): so do the charts.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    axes: [
      axis,
      {
        ...axis,
        // Wide enough for the widest label, measured: "1.5 s" and "12.5K" are never clipped.
        size: (_u, values) => Math.ceil(textWidth(values ?? [], AXIS_FONT)) + AXIS_PAD,
        values: (_u, ticks) => ticks.map(format),
      },
    ],
    hooks: { draw: [(u) => noteAxis(el, u)] },
    series: [
      {},
      ...props.series.map((s): uPlot.Series => ({
        label: s.label,
        stroke: color(s.color),
        width: 2,
        fill: color(s.color) + "22",
        // A value between gaps would be invisible as a line: draw it as a point.
        points: { show: true, size: 6, filter: isolated },
        spanGaps: false,
        value: (_u, v) => v === null || v === undefined ? "–" : format(v),
      })),
    ],
  };
}

function isolated(u: uPlot, series: number): number[] {
  const values = u.data[series] ?? [];
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] != null && values[i - 1] == null && values[i + 1] == null) out.push(i);
  }
  return out;
}

const AXIS_FONT = "12px system-ui, sans-serif";
/** Tick length plus the gap uPlot leaves between a tick and its label, and a margin. */
const AXIS_PAD = 10 + 5 + 6;

function formatter(unit: string): (v: number) => string {
  if (unit === "usd") return formatUsdAxis;
  if (unit.trim() === "ms") {
    return (v) => v >= 1000 ? `${+(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
  }
  return (v) => compactNumber(v) + unit;
}

let measurer: CanvasRenderingContext2D | null = null;

/** The widest of some labels in a font, in CSS pixels. */
function textWidth(labels: string[], font: string): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (!measurer) return 40;
  measurer.font = font;
  return Math.max(0, ...labels.map((l) => measurer!.measureText(l).width));
}

/**
 * Notes on the element how wide the y axis is, how wide its widest drawn label, and the labels
 * themselves, so the room labels get can be checked (uPlot draws them on a canvas, out of the
 * DOM's reach).
 */
function noteAxis(el: HTMLElement, u: uPlot): void {
  const axis = u.axes[1] as uPlot.Axis & { _size?: number; _values?: string[] };
  if (axis?._size === undefined) return;
  el.dataset.yAxisPx = String(axis._size);
  el.dataset.yLabelPx = String(Math.ceil(textWidth(axis._values ?? [], AXIS_FONT)));
  el.dataset.yLabels = (axis._values ?? []).join("|");
}

function compactNumber(v: number): string {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(1)}K`;
  return String(+v.toFixed(2));
}
