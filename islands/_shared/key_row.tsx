/**
 * One row of the keys table: selection, masked key, project, status, cooldowns, usage today,
 * health over 24 hours, last error and actions. On phones the row is a card (`data-label`s).
 * @module
 */
import { ConfirmRow } from "./confirm_row.tsx";
import { ariaBool, formatAgo, formatCount, formatCountdown, formatMs } from "./format.ts";
import { formatRate } from "./key_health.ts";
import type { KeyHealthView, KeyView } from "./types.ts";

/** Props of {@linkcode KeyRow}. */
export interface KeyRowProps {
  k: KeyView;
  health: KeyHealthView | undefined;
  selected: boolean;
  editing: boolean;
  confirming: boolean;
  /** Seconds since the list was read (countdowns). */
  elapsed: number;
  /** The server's clock now (ages). */
  serverNow: number;
  /** A validation result to show. */
  result: string | undefined;
  onSelect: (on: boolean) => void;
  onValidate: () => void;
  onToggle: () => void;
  onEdit: () => void;
  onDelete: () => void;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * The row.
 * @param props The key and its handlers.
 */
export function KeyRow(props: KeyRowProps) {
  const { k, health } = props;
  return (
    <tr data-key={k.id} class={props.editing ? "editing" : ""}>
      <td class="select-cell">
        <input
          type="checkbox"
          aria-label={`Select ${k.masked}`}
          data-select={k.id}
          checked={props.selected}
          onChange={(e) => props.onSelect(e.currentTarget.checked)}
        />
      </td>
      <td data-label="Key">
        <span>
          <a class="mono" href={`/admin/keys/${k.id}`} data-masked>{k.masked}</a>
          <div class="muted small">
            {k.source === "env" ? "from GEMINI_API_KEYS" : "added here"}
          </div>
        </span>
      </td>
      <td data-label="Project">
        <span>
          {k.project ?? <span class="muted">–</span>}
          {k.weight !== undefined && <div class="muted small">weight {k.weight}</div>}
        </span>
      </td>
      <td data-label="Status">
        <span>
          <span
            class={`pill ${
              k.status === "enabled" ? "ok" : k.status === "cooling" ? "warn" : "bad"
            }`}
          >
            {k.status}
          </span>
          {k.disabledReason && !k.enabled && <div class="small">{k.disabledReason}</div>}
          {props.result && <div class="small" role="status">{props.result}</div>}
        </span>
      </td>
      <td class="small" data-label="Cooldowns">
        {k.cooldowns.length === 0 ? <span class="muted">–</span> : (
          <span>
            {k.cooldowns.map((c) => (
              <div key={c.model}>
                {c.model === "*" ? "all models" : c.model}{" "}
                <span class="mono">{formatCountdown(c.seconds - props.elapsed)}</span>
              </div>
            ))}
          </span>
        )}
      </td>
      <td class="num small" data-label="Today">
        <span>
          {formatCount(k.usageToday?.requests ?? 0)} req
          <div class="muted">{formatCount(k.usageToday?.tokens ?? 0)} tok</div>
        </span>
      </td>
      <td class="num small" data-label="24 h" data-health>
        <span>
          <span title="answered without a key or upstream error">
            {formatRate(health?.successRate)} ok
          </span>
          <div class="muted">p50 {formatMs(health?.p50)}</div>
        </span>
      </td>
      <td class="small" data-label="Last error">
        {k.lastError
          ? (
            <span>
              <span class="pill bad">{k.lastError.status}</span> {k.lastError.errorClass}
              <div class="muted">{formatAgo(k.lastError.at, props.serverNow)}</div>
            </span>
          )
          : <span class="muted">–</span>}
      </td>
      <td data-label="Actions">
        {props.confirming
          ? (
            <ConfirmRow
              label={`Confirm deleting ${k.masked}`}
              question={`Delete ${k.masked}?`}
              yes="Yes, delete"
              onYes={props.onConfirm}
              onCancel={props.onCancel}
            />
          )
          : (
            <div class="actions">
              <button type="button" class="btn small" onClick={props.onValidate}>Validate</button>
              <button type="button" class="btn small" onClick={props.onToggle}>
                {k.enabled ? "Disable" : "Enable"}
              </button>
              <button
                type="button"
                class="btn small"
                aria-expanded={ariaBool(props.editing)}
                onClick={props.onEdit}
              >
                Edit
              </button>
              <button type="button" class="btn small danger" onClick={props.onDelete}>
                Delete
              </button>
            </div>
          )}
      </td>
    </tr>
  );
}
