/**
 * Why requests failed: errors of a range by class, grouped by side (client, keys, Google and
 * network, proxy), and by HTTP status, each linking to the matching logs.
 * @module
 */
import { ERROR_CLASSES, ERROR_GROUPS, errorGroupOf } from "../../core/logs/error_groups.ts";
import { formatCount } from "./format.ts";
import type { StatsView } from "./types.ts";

/**
 * The breakdown card.
 * @param props The range's stats and the range in words.
 */
export function ErrorBreakdown(props: { stats: StatsView; rangeLabel: string }) {
  const { errors, statuses } = props.stats.totals;
  const classes = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...classes.map(([, n]) => n));
  const codes = Object.entries(statuses ?? {}).sort((a, b) => b[1] - a[1]);
  return (
    <section class="card" aria-labelledby="why-failed" data-breakdown>
      <h2 id="why-failed">Why requests failed</h2>
      {classes.length === 0
        ? <p class="empty">No error in the {props.rangeLabel}.</p>
        : ERROR_GROUPS.map((g) => {
          const inGroup = classes.filter(([c]) => errorGroupOf(c) === g.id);
          if (inGroup.length === 0) return null;
          return (
            <div key={g.id} data-error-group={g.id}>
              <h3 class="small muted">{g.label}</h3>
              <ul class="bars">
                {inGroup.map(([cls, n]) => (
                  <li key={cls} data-error-class={cls}>
                    <a href={`/admin/logs?errorClass=${encodeURIComponent(cls)}`}>
                      <span class="mono">{cls}</span>
                      {" · "}
                      <span class="muted small">{ERROR_CLASSES[cls]?.label ?? ""}</span>
                    </a>
                    <span class="muted">{formatCount(n)}</span>
                    <span class="bar">
                      <span class={g.id} style={{ width: `${(n / max) * 100}%` }} />
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      {codes.length > 0 && (
        <p class="small" data-statuses>
          By status: {codes.map(([code, n], i) => (
            <span key={code}>
              {i > 0 && " · "}
              <a href={`/admin/logs?status=${code}`}>{code}</a> × {formatCount(n)}
            </span>
          ))}
        </p>
      )}
    </section>
  );
}
