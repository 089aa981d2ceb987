/**
 * One request log in full, with the timeline of its attempts. Rendered on the server only: this
 * page ships no JavaScript.
 * @module
 */
import type { ConsoleState } from "../../../core/admin/console.ts";
import { HttpError } from "../../../core/errors.ts";
import type { Handlers, PageProps } from "../../../core/web/types.ts";
import { formatCount, formatMs, formatTime, statusClass } from "../../../islands/_shared/format.ts";
import type { LogRecord } from "../../../islands/_shared/types.ts";
import { formatRecordCost } from "../../../islands/_shared/usd.ts";
import type { ComponentChildren } from "preact";
import { PageTitle } from "../_components/page_title.tsx";

/** `GET`: reads one log record through the admin API (404 page when there is none). */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const id = ctx.params.id ?? "";
    if (!/^[0-9a-z]{1,64}$/.test(id)) return ctx.render(null, { status: 404 });
    const reveal = ctx.url.searchParams.get("reveal") === "1";
    try {
      return ctx.render(
        await ctx.state.deps.api<LogRecord>(`/logs/${id}${reveal ? "?reveal=client" : ""}`),
      );
    } catch (error) {
      if (error instanceof HttpError && error.code === 404) {
        return ctx.render(null, { status: 404 });
      }
      throw error;
    }
  },
};

/**
 * A log record's facts, attempts and bodies.
 * @param props The record, or null when there is none (yet).
 */
export default function LogPage(props: PageProps<LogRecord | null, ConsoleState>) {
  const log = props.data;
  if (!log) {
    return (
      <>
        <PageTitle title="Log not found" />
        <p>
          <a href="/admin/logs">← Logs</a>
        </p>
        <div class="card">
          <h1>Log not found</h1>
          <p>
            No record has the id{" "}
            <code>{props.params.id}</code>. Records are written a moment after the response ends:
            reload in a second if the request just finished.
          </p>
        </div>
      </>
    );
  }
  const bars = waterfall(log);
  const revealed = props.url.searchParams.get("reveal") === "1";
  const facts: [string, ComponentChildren][] = [
    ["Time", formatTime(log.time)],
    ["Path", `${log.httpMethod} ${log.path}`],
    ["Model", log.model ?? "–"],
    ["API method", `${log.method} (${log.flavour})${log.stream ? ", stream" : ""}`],
    ["Token", log.tokenName ? `${log.tokenName} (${log.tokenId})` : "–"],
    ["Answered by key", log.keyMasked ?? "–"],
    ["Time to upstream headers", formatMs(log.ttfbMs)],
    ["Duration", formatMs(log.durationMs)],
    ["Bytes in / out", `${formatCount(log.bytesIn)} / ${formatCount(log.bytesOut)}`],
    ["Finish reason", log.finishReason ?? "–"],
    ["Region", log.region ?? "–"],
    ["User agent", log.userAgent ?? "–"],
    [
      "Client address",
      <span key="client">
        <span class="mono" data-client>{log.client ?? "unknown"}</span> {log.client &&
          (revealed
            ? <a href={`/admin/logs/${log.id}`}>mask</a>
            : <a href={`/admin/logs/${log.id}?reveal=1`} data-reveal>reveal</a>)}
      </span>,
    ],
  ];
  if (log.truncated) facts.push(["Truncated", "the stream ended early"]);
  if (log.usageUnknown) {
    facts.push(["Tokens", "unknown: the stream ended without usage, so it was not charged"]);
  }
  facts.push(["Cost", <span key="cost" data-cost>{costText(log)}</span>]);
  return (
    <>
      <PageTitle title={`Request ${log.id}`} />
      <p>
        <a href="/admin/logs">← Logs</a>
      </p>
      <div class="page-head">
        <h1>
          Request <span class="mono">{log.id}</span>
        </h1>
        <span class={`pill ${statusClass(log.status)}`}>
          {log.status}
          {log.errorClass ? ` · ${log.errorClass}` : ""}
        </span>
      </div>
      <div class="grid-2">
        <section class="card" aria-labelledby="facts">
          <h2 id="facts">Request</h2>
          <dl class="facts">
            {facts.map((
              [name, value],
            ) => [<dt key={`${name}-t`}>{name}</dt>, <dd key={`${name}-d`}>{value}</dd>])}
          </dl>
        </section>
        <section class="card" aria-labelledby="attempts">
          <h2 id="attempts">Attempts</h2>
          <ol class="timeline">
            {log.attempts.map((a, i) => (
              <li key={i} class={a.errorClass || a.status >= 400 || a.status === 0 ? "bad" : "ok"}>
                <strong>#{i + 1}</strong> <span class="mono">{a.keyMasked}</span>{" "}
                <span class={`pill ${a.status ? statusClass(a.status) : "bad"}`}>
                  {a.status || "no answer"}
                </span>
                {a.errorClass && <span class="muted">{a.errorClass}</span>} ·{" "}
                {formatMs(a.durationMs)}
                <div class="track" title={`started at ${formatMs(bars[i]!.startMs)}`}>
                  <span
                    data-start={String(bars[i]!.startMs)}
                    style={{ marginLeft: `${bars[i]!.left}%`, width: `${bars[i]!.width}%` }}
                  />
                </div>
              </li>
            ))}
            <li class={log.status < 400 ? "ok" : "bad"}>
              <strong>Answered {log.status}</strong> after {formatMs(log.durationMs)}
              {log.attempts.length > 1 &&
                ` (${log.attempts.length - 1} failover${log.attempts.length > 2 ? "s" : ""})`}
            </li>
          </ol>
          {log.usage && (
            <>
              <h2 style={{ marginTop: "1rem" }}>Tokens</h2>
              <dl class="facts">
                <dt>Prompt</dt>
                <dd>{formatCount(log.usage.prompt)}</dd>
                <dt>Output</dt>
                <dd>{formatCount(log.usage.candidates)}</dd>
                <dt>Thinking</dt>
                <dd>{formatCount(log.usage.thoughts)}</dd>
                <dt>Cached</dt>
                <dd>{formatCount(log.usage.cached)}</dd>
                <dt>Total</dt>
                <dd>{formatCount(log.usage.total)}</dd>
              </dl>
            </>
          )}
        </section>
      </div>
      {(log.requestBody || log.responseBody) && (
        <section class="card" aria-label="Bodies">
          {log.requestBody && (
            <details>
              <summary>Request body</summary>
              <pre class="body">{log.requestBody}</pre>
            </details>
          )}
          {log.responseBody && (
            <details open>
              <summary>Response body</summary>
              <pre class="body">{log.responseBody}</pre>
            </details>
          )}
        </section>
      )}
    </>
  );
}

/** A request's cost, and why when it is unknown. */
function costText(log: LogRecord): ComponentChildren {
  if (!log.costUnknown) return formatRecordCost(log);
  if (log.usageUnknown) return "unknown: the stream ended before Google reported its usage";
  if (!log.usage) return "unknown: Google reported no usage for this billed call";
  return (
    <>
      unknown: <span class="mono">{log.model ?? "no model"}</span> has no price (see{" "}
      <a href="/admin/settings#prices">Model prices</a>)
    </>
  );
}

/**
 * Where each attempt's bar sits on the request's time line (percent of the whole request), so
 * that failovers read as a waterfall. Records written before attempts kept their start are laid
 * end to end.
 */
function waterfall(log: LogRecord): { startMs: number; left: number; width: number }[] {
  let next = 0;
  const starts = log.attempts.map((a) => {
    const start = a.startMs ?? next;
    next = start + a.durationMs;
    return start;
  });
  const total = Math.max(1, log.durationMs, next);
  return log.attempts.map((a, i) => {
    const left = Math.min(98, (starts[i]! / total) * 100);
    return {
      startMs: starts[i]!,
      left,
      width: Math.max(2, Math.min(100 - left, (a.durationMs / total) * 100)),
    };
  });
}
