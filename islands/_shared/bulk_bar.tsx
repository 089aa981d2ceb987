/**
 * The bar of bulk actions over the selected keys (validate, enable, disable, delete after a
 * confirmation), with progress while one runs.
 * @module
 */
import { BULK_WORDS, type BulkAction } from "./key_bulk.ts";

/**
 * The bar; nothing when no key is selected and nothing runs.
 * @param props Selection size, the running action's progress, and handlers.
 */
export function BulkBar(props: {
  count: number;
  bulk: { action: BulkAction; done: number; total: number } | null;
  confirming: boolean;
  onRun: (action: BulkAction) => void;
  onConfirm: () => void;
  onCancel: () => void;
  onClear: () => void;
}) {
  if (props.count === 0 && !props.bulk) return null;
  const b = props.bulk;
  return (
    <div class="card" role="region" aria-label="Selected keys" data-bulk>
      {b
        ? (
          <p class="small" role="status" data-bulk-progress>
            {BULK_WORDS[b.action].running} {b.done} of {b.total}...
            <progress class="progress" value={b.done} max={b.total} />
          </p>
        )
        : props.confirming
        ? (
          <div class="actions" role="group" aria-label="Confirm deleting the selected keys">
            <span class="small">Delete {props.count} selected keys?</span>
            <button type="button" class="btn small danger" onClick={props.onConfirm}>
              Yes, delete {props.count}
            </button>
            <button type="button" class="btn small" onClick={props.onCancel}>Cancel</button>
          </div>
        )
        : (
          <div class="actions">
            <strong class="small" data-selected-count>{props.count} selected</strong>
            {(["validate", "enable", "disable", "delete"] as const).map((a) => (
              <button
                type="button"
                key={a}
                data-bulk-action={a}
                class={`btn small${a === "delete" ? " danger" : ""}`}
                onClick={() => props.onRun(a)}
              >
                {BULK_WORDS[a].button}
              </button>
            ))}
            <button type="button" class="btn small link" onClick={props.onClear}>Clear</button>
          </div>
        )}
    </div>
  );
}
