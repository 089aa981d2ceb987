/**
 * An inline "are you sure?" row: the question, a danger button and Cancel. Used by the keys and
 * tokens tables so a destructive action always takes a second, deliberate click.
 * @module
 */

/** Props of {@linkcode ConfirmRow}. */
export interface ConfirmRowProps {
  /** Accessible name of the group, e.g. `Confirm deleting AIza...x9Qk`. */
  label: string;
  /** The question shown. */
  question: string;
  /** Text of the danger button, e.g. `Yes, delete`. */
  yes: string;
  /** Called on the danger button. */
  onYes: () => void;
  /** Called on Cancel. */
  onCancel: () => void;
}

/**
 * Renders the confirmation row.
 * @param props Question, labels and handlers.
 */
export function ConfirmRow(props: ConfirmRowProps) {
  return (
    <div class="actions" role="group" aria-label={props.label}>
      <span class="small">{props.question}</span>
      <button type="button" class="btn small danger" onClick={props.onYes}>
        {props.yes}
      </button>
      <button type="button" class="btn small" onClick={props.onCancel}>
        Cancel
      </button>
    </div>
  );
}
