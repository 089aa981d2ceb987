/**
 * One Gemini key (masked): its state, health and cost over the last 24 hours, and its own traffic
 * and cost charts.
 * @module
 */
import type { ConsoleState } from "../../../core/admin/console.ts";
import type { Handlers, PageProps } from "../../../core/web/types.ts";
import EntityStats from "../../../islands/entity_stats.tsx";
import { formatCountOf, formatMs, formatTime } from "../../../islands/_shared/format.ts";
import { formatRate, keyHealthOf } from "../../../islands/_shared/key_health.ts";
import type { KeyView, StatsView } from "../../../islands/_shared/types.ts";
import { formatCost } from "../../../islands/_shared/usd.ts";
import { PageTitle } from "../_components/page_title.tsx";

interface KeyPageData {
  key: KeyView;
  stats: StatsView;
}

/** `GET`: the key (masked) and its last 24 hours; 404 page when unknown. */
export const handler: Handlers<ConsoleState> = {
  async GET(ctx) {
    const id = ctx.params.id ?? "";
    const { api } = ctx.state.deps;
    const { keys } = await api<{ keys: KeyView[] }>("/keys");
    const key = keys.find((k) => k.id === id);
    if (!key) return ctx.render(null, { status: 404 });
    const stats = await api<StatsView>(`/stats?range=24h&keyId=${encodeURIComponent(id)}`);
    return ctx.render({ key, stats } satisfies KeyPageData);
  },
};

/**
 * The key page.
 * @param props The key and its stats, or null.
 */
export default function KeyPage(props: PageProps<KeyPageData | null, ConsoleState>) {
  if (!props.data) {
    return (
      <>
        <PageTitle title="Key not found" />
        <p>
          <a href="/admin/keys">← Keys</a>
        </p>
        <div class="card">
          <h1>Key not found</h1>
          <p>No key in the pool has this id.</p>
        </div>
      </>
    );
  }
  const { key: k, stats } = props.data;
  const health = keyHealthOf(stats.series.map((s) => ({ ...s, group: k.id })))[k.id];
  const facts: [string, string][] = [
    ["Status", k.status + (k.disabledReason && !k.enabled ? ` (${k.disabledReason})` : "")],
    ["Project", k.project ?? "–"],
    ["Weight", String(k.weight ?? 1)],
    ["Source", k.source === "env" ? "GEMINI_API_KEYS" : "added in the console"],
    ["Success, last 24 h", formatRate(health?.successRate)],
    ["Latency p50, last 24 h", formatMs(health?.p50)],
    ["Cost, last 24 h", formatCost(stats.totals.costMicros, stats.totals.costUnknown)],
    [
      "Today (Pacific day)",
      `${formatCountOf(k.usageToday?.requests ?? 0, "request")}, ${
        formatCountOf(k.usageToday?.tokens ?? 0, "token")
      }`,
    ],
    ["Last used", k.lastUsedAt ? formatTime(k.lastUsedAt) : "never"],
    [
      "Last error",
      k.lastError
        ? `${k.lastError.status} ${k.lastError.errorClass} (${k.lastError.reason}) at ${
          formatTime(k.lastError.at)
        }`
        : "–",
    ],
    [
      "Cooldowns",
      k.cooldowns.map((c) =>
        `${c.model === "*" ? "all models" : c.model} until ${formatTime(c.until)}`
      )
        .join("; ") || "–",
    ],
    ["Added", formatTime(k.createdAt)],
    ["Id", k.id],
  ];
  return (
    <>
      <PageTitle title={`Key ${k.masked}`} />
      <p>
        <a href="/admin/keys">← Keys</a>
      </p>
      <div class="page-head">
        <h1 class="mono">{k.masked}</h1>
        <div class="row">
          <span
            class={`pill ${
              k.status === "enabled" ? "ok" : k.status === "cooling" ? "warn" : "bad"
            }`}
          >
            {k.status}
          </span>
          <a class="btn" href={`/admin/logs?keyId=${k.id}`}>Its logs</a>
        </div>
      </div>
      <section class="card" aria-labelledby="facts">
        <h2 id="facts">Key</h2>
        <dl class="facts">
          {facts.map((
            [name, value],
          ) => [<dt key={`${name}-t`}>{name}</dt>, <dd key={`${name}-d`}>{value}</dd>])}
        </dl>
      </section>
      <EntityStats by="keyId" id={k.id} range="24h" stats={stats} />
    </>
  );
}
