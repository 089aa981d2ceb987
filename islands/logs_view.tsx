/**
 * The logs page: a filterable table of request logs, older pages on demand, and a live tail
 * (server-sent events) that adds matching requests as they finish.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { api, messageOf } from "./_shared/api.ts";
import { ariaBool, formatCount, formatMs, formatTime, statusClass } from "./_shared/format.ts";
import type { LogPageView, LogRecord } from "./_shared/types.ts";
import type { LogFacets } from "../core/admin/log_facets.ts";
import { formatRecordCost } from "./_shared/usd.ts";

/** The filters the page understands (the admin API's query names). */
export interface LogFilters {
  status?: string;
  model?: string;
  errorClass?: string;
  tokenId?: string;
  keyId?: string;
  stream?: string;
  search?: string;
  q?: string;
}

/** Props: the first page, read by the server with the URL's filters, and the filter values. */
export interface LogsViewProps {
  /** Filters in effect. */
  filters: LogFilters;
  /** First page. */
  page: LogPageView;
  /** Values the selects offer (`GET /admin/api/logs/facets`). */
  facets: LogFacets;
}

const FILTER_NAMES = [
  "status",
  "model",
  "errorClass",
  "tokenId",
  "keyId",
  "stream",
  "search",
  "q",
] as const;
const MAX_ROWS = 500;

/** The admin API's query for a set of filters, in a fixed order (the page's URL uses it too). */
function filterQuery(filters: LogFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = filters[name]?.trim();
    if (value) params.set(name, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

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
  /** The filters whose rows are shown (`data-query`); answers to older filters are dropped. */
  const shown = useSignal<string>(filterQuery(props.filters));
  const latest = useRef<string>(shown.value);

  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
    return () => source.current?.close();
  }, []);

  function exportQuery(format: "csv" | "ndjson"): string {
    return query({ format });
  }
  function query(extra: Record<string, string> = {}): string {
    return filterQuery(filters.value, extra);
  }
  async function apply(event: Event) {
    event.preventDefault();
    // Text fields apply on Enter or the button; the selects as soon as they change.
    if (event.type === "change" && (event.target as HTMLElement).tagName !== "SELECT") return;
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next: LogFilters = {};
    for (const name of FILTER_NAMES) {
      const value = String(form.get(name) ?? "").trim();
      if (value) next[name] = value;
    }
    filters.value = next;
    const asked = query();
    latest.current = asked;
    history.replaceState(null, "", `/admin/logs${asked ? `?${asked}` : ""}`);
    try {
      const page = await api<LogPageView>(`/logs?${query({ limit: "50" })}`);
      // Filters changed again while this answer was on its way: a newer one will be shown.
      if (latest.current !== asked) return;
      logs.value = page.logs;
      cursor.value = page.cursor;
      shown.value = asked;
      error.value = null;
    } catch (e) {
      if (latest.current === asked) error.value = messageOf(e);
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
      <form class="card" onSubmit={apply} onChange={apply} aria-label="Filter logs">
        <div class="toolbar">
          <Select id="f-status" name="status" label="Status" value={f.status}>
            {props.facets.statuses.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
          </Select>
          <Select id="f-error" name="errorClass" label="Error class" value={f.errorClass}>
            {props.facets.errorGroups.map((g) => (
              <optgroup key={g.id} label={g.label}>
                {props.facets.errorClasses.filter((c) => c.group === g.id).map((c) => (
                  <option key={c.id} value={c.id}>{c.id} · {c.label}</option>
                ))}
              </optgroup>
            ))}
          </Select>
          <Select id="f-token" name="tokenId" label="Token" value={f.tokenId}>
            {props.facets.tokens.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
          </Select>
          <Select id="f-key" name="keyId" label="Key" value={f.keyId}>
            {props.facets.keys.map((k) => <option key={k.id} value={k.id}>{k.masked}</option>)}
          </Select>
          <Select id="f-stream" name="stream" label="Streaming" value={f.stream}>
            <option value="true">Streams</option>
            <option value="false">Not streams</option>
          </Select>
          <div class="field">
            <label for="f-model">Model (any part)</label>
            <input
              id="f-model"
              name="model"
              list="f-models"
              value={f.model ?? ""}
              placeholder="pro, flash..."
              autocomplete="off"
            />
            <datalist id="f-models">
              {props.facets.models.map((m) => <option key={m} value={m} />)}
            </datalist>
          </div>
          <div class="field grow">
            <label for="f-search">Path or user agent</label>
            <input
              id="f-search"
              name="search"
              value={f.search ?? ""}
              placeholder="openai, curl..."
            />
          </div>
          <div class="field">
            <label for="f-q">Request id</label>
            <input id="f-q" name="q" value={f.q ?? ""} placeholder="prefix" size={10} />
          </div>
          <button type="submit" class="btn primary">Apply</button>
        </div>
        <div class="actions">
          <a
            class="btn small"
            data-export="csv"
            href={`/admin/api/logs/export?${exportQuery("csv")}`}
            download
          >
            Export CSV
          </a>
          <a
            class="btn small"
            data-export="ndjson"
            href={`/admin/api/logs/export?${exportQuery("ndjson")}`}
            download
          >
            Export NDJSON
          </a>
          <span class="muted small">
            Every matching request, streamed; client addresses masked (/24, /48).
          </span>
        </div>
      </form>
      {error.value && <p class="notice bad" role="alert">{error.value}</p>}
      <div class="table-wrap cards">
        <table class="data cards" aria-label="Request logs" data-query={shown.value}>
          <thead>
            <tr>
              <th>Time</th>
              <th>Status</th>
              <th>Model</th>
              <th>Method</th>
              <th>Token</th>
              <th>Key</th>
              <th class="num">Tries</th>
              <th class="num">Duration</th>
              <th class="num">Tokens</th>
              <th class="num">Cost</th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {logs.value.length === 0 && (
              <tr>
                <td colSpan={10} class="empty">No request matches.</td>
              </tr>
            )}
            {logs.value.map((l) => (
              <tr key={l.id} data-log={l.id} class={fresh.value.has(l.id) ? "fresh" : ""}>
                <td class="small" data-label="Time">
                  <a href={`/admin/logs/${l.id}`}>{formatTime(l.time)}</a>
                </td>
                <td data-label="Status">
                  <span>
                    <span class={`pill ${statusClass(l.status)}`}>{l.status}</span>
                    {l.errorClass && <div class="small muted" data-error>{l.errorClass}</div>}
                  </span>
                </td>
                <td class="mono small" data-label="Model">{l.model ?? "–"}</td>
                <td class="small" data-label="Method">{l.method}{l.stream ? " · stream" : ""}</td>
                <td class="small" data-label="Token">{l.tokenName ?? "–"}</td>
                <td class="mono small" data-label="Key">{l.keyMasked ?? "–"}</td>
                <td class="num" data-label="Tries">{l.attempts.length}</td>
                <td class="num small" data-label="Duration">{formatMs(l.durationMs)}</td>
                <td class="num small" data-label="Tokens">
                  {l.usage ? formatCount(l.usage.total) : l.usageUnknown ? "unknown" : "–"}
                </td>
                <td class="num small" data-label="Cost" data-cost>{formatRecordCost(l)}</td>
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
  if (f.model && !record.model?.toLowerCase().includes(f.model.toLowerCase())) return false;
  if (
    f.search &&
    ![record.path, record.userAgent ?? ""].some((v) =>
      v.toLowerCase().includes(f.search!.toLowerCase())
    )
  ) return false;
  if (f.errorClass && record.errorClass !== f.errorClass) return false;
  if (f.tokenId && record.tokenId !== f.tokenId) return false;
  if (f.keyId && record.keyId !== f.keyId) return false;
  if (f.stream && String(record.stream) !== f.stream) return false;
  if (f.q && !record.id.startsWith(f.q)) return false;
  return true;
}

/** A filter select whose first option means "any". */
function Select(
  props: {
    id: string;
    name: string;
    label: string;
    value: string | undefined;
    children: ComponentChildren;
  },
) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} value={props.value ?? ""}>
        <option value="">Any</option>
        {props.children}
      </select>
    </div>
  );
}
