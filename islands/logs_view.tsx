/**
 * The logs page: a filterable table of request logs, older pages on demand, and a live tail
 * (server-sent events) that adds matching requests as they finish.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { ariaBool, formatCount, formatMs, formatTime, statusClass } from "./_shared/format.ts";
import type { LogPageView, LogRecord } from "./_shared/types.ts";

/** The filters the page understands (the admin API's query names). */
export interface LogFilters {
  status?: string;
  model?: string;
  errorClass?: string;
  tokenId?: string;
  keyId?: string;
  stream?: string;
  q?: string;
}

/** Props: the first page, read by the server with the URL's filters. */
export interface LogsViewProps {
  /** Filters in effect. */
  filters: LogFilters;
  /** First page. */
  page: LogPageView;
}

const FILTER_NAMES = ["status", "model", "errorClass", "tokenId", "keyId", "stream", "q"] as const;
const MAX_ROWS = 500;

/**
 * The logs island.
 * @param props First page and filters.
 */
export default function LogsView(props: LogsViewProps) {
  const filters = useSignal<LogFilters>(props.filters);
  const logs = useSignal<LogRecord[]>(props.page.logs);
  const cursor = useSignal<string | null>(props.page.cursor);
  const fresh = useSignal<Set<string>>(new Set());
  /** `off`, `connecting` (asked, not open yet) or `on` (records arrive). */
  const tailing = useSignal<"off" | "connecting" | "on">("off");
  const error = useSignal<string | null>(null);
  const source = useRef<EventSource | null>(null);

  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
    return () => source.current?.close();
  }, []);

  function query(extra: Record<string, string> = {}): string {
    const params = new URLSearchParams();
    for (const name of FILTER_NAMES) {
      const value = filters.value[name]?.trim();
      if (value) params.set(name, value);
    }
    for (const [k, v] of Object.entries(extra)) params.set(k, v);
    return params.toString();
  }
  async function apply(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next: LogFilters = {};
    for (const name of FILTER_NAMES) {
      const value = String(form.get(name) ?? "").trim();
      if (value) next[name] = value;
    }
    filters.value = next;
    history.replaceState(null, "", `/admin/logs${query() ? `?${query()}` : ""}`);
    try {
      const page = await api<LogPageView>(`/logs?${query({ limit: "50" })}`);
      logs.value = page.logs;
      cursor.value = page.cursor;
      error.value = null;
    } catch (e) {
      error.value = messageOf(e);
    }
  }
  async function older() {
    if (!cursor.value) return;
    try {
      const page = await api<LogPageView>(`/logs?${query({ limit: "50", cursor: cursor.value })}`);
      logs.value = [...logs.value, ...page.logs];
      cursor.value = page.cursor;
    } catch (e) {
      error.value = messageOf(e);
    }
  }
  function toggleTail() {
    if (source.current) {
      source.current.close();
      source.current = null;
      tailing.value = "off";
      return;
    }
    const events = new EventSource("/admin/api/logs/tail");
    events.onopen = () => {
      tailing.value = "on";
      error.value = null;
    };
    events.onerror = () => {
      tailing.value = "connecting";
      error.value = "Live tail interrupted; retrying";
    };
    events.onmessage = (event) => {
      const record = JSON.parse(event.data) as LogRecord;
      if (!matches(record, filters.value) || logs.value.some((l) => l.id === record.id)) return;
      error.value = null;
      logs.value = [record, ...logs.value].slice(0, MAX_ROWS);
      fresh.value = new Set([...fresh.value, record.id]);
    };
    source.current = events;
    tailing.value = "connecting";
  }

  const f = filters.value;
  return (
    <div>
      <div class="page-head">
        <h1>Logs</h1>
        <button
          type="button"
          class="btn"
          aria-pressed={ariaBool(tailing.value !== "off")}
          onClick={toggleTail}
        >
          <span class={tailing.value === "on" ? "live" : "live off"}>
            {{ off: "Live tail", connecting: "Connecting...", on: "Live tail on" }[tailing.value]}
          </span>
        </button>
      </div>
      <form class="card" onSubmit={apply} aria-label="Filter logs">
        <div class="row">
          <div class="field">
            <label for="f-status">Status</label>
            <select id="f-status" name="status">
              {[["", "Any"], ["2xx", "2xx"], ["4xx", "4xx"], ["429", "429"], ["5xx", "5xx"]].map((
                [v, label],
              ) => <option key={v} value={v} selected={(f.status ?? "") === v}>{label}</option>)}
            </select>
          </div>
          <div class="field">
            <label for="f-model">Model</label>
            <input id="f-model" name="model" value={f.model ?? ""} placeholder="gemini-2.5-flash" />
          </div>
          <div class="field">
            <label for="f-error">Error class</label>
            <input id="f-error" name="errorClass" value={f.errorClass ?? ""} placeholder="quota" />
          </div>
          <div class="field">
            <label for="f-token">Token id</label>
            <input id="f-token" name="tokenId" value={f.tokenId ?? ""} />
          </div>
          <div class="field">
            <label for="f-key">Key id</label>
            <input id="f-key" name="keyId" value={f.keyId ?? ""} />
          </div>
          <div class="field">
            <label for="f-stream">Streaming</label>
            <select id="f-stream" name="stream">
              {[["", "Any"], ["true", "Streams"], ["false", "Not streams"]].map(([v, label]) => (
                <option key={v} value={v} selected={(f.stream ?? "") === v}>{label}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-q">Request id</label>
            <input id="f-q" name="q" value={f.q ?? ""} placeholder="prefix" />
          </div>
          <button type="submit" class="btn primary" style={{ marginBottom: "0.85rem" }}>
            Apply
          </button>
        </div>
      </form>
      {error.value && <p class="notice bad" role="alert">{error.value}</p>}
      <div class="table-wrap">
        <table class="data" aria-label="Request logs">
          <thead>
            <tr>
              <th>Time (UTC)</th>
              <th>Status</th>
              <th>Model</th>
              <th>Method</th>
              <th>Token</th>
              <th>Key</th>
              <th class="num">Tries</th>
              <th class="num">Duration</th>
              <th class="num">Tokens</th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {logs.value.length === 0 && (
              <tr>
                <td colSpan={9} class="empty">No request matches.</td>
              </tr>
            )}
            {logs.value.map((l) => (
              <tr key={l.id} data-log={l.id} class={fresh.value.has(l.id) ? "fresh" : ""}>
                <td class="small">
                  <a href={`/admin/logs/${l.id}`}>{formatTime(l.time)}</a>
                </td>
                <td>
                  <span class={`pill ${statusClass(l.status)}`}>{l.status}</span>
                  {l.errorClass && <div class="small muted">{l.errorClass}</div>}
                </td>
                <td class="mono small">{l.model ?? "–"}</td>
                <td class="small">{l.method}{l.stream ? " · stream" : ""}</td>
                <td class="small">{l.tokenName ?? "–"}</td>
                <td class="mono small">{l.keyMasked ?? "–"}</td>
                <td class="num">{l.attempts.length}</td>
                <td class="num small">{formatMs(l.durationMs)}</td>
                <td class="num small">
                  {l.usage ? formatCount(l.usage.total) : l.usageUnknown ? "unknown" : "–"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor.value && (
        <p>
          <button type="button" class="btn" onClick={older}>Load older</button>
        </p>
      )}
    </div>
  );
}

/** Whether a tailed record passes the filters (the same rules as the API's). */
function matches(record: LogRecord, f: LogFilters): boolean {
  if (f.status) {
    const cls = f.status.match(/^(\d)xx$/i);
    if (
      cls ? Math.floor(record.status / 100) !== Number(cls[1]) : String(record.status) !== f.status
    ) {
      return false;
    }
  }
  if (f.model && record.model !== f.model) return false;
  if (f.errorClass && record.errorClass !== f.errorClass) return false;
  if (f.tokenId && record.tokenId !== f.tokenId) return false;
  if (f.keyId && record.keyId !== f.keyId) return false;
  if (f.stream && String(record.stream) !== f.stream) return false;
  if (f.q && !record.id.startsWith(f.q)) return false;
  return true;
}
